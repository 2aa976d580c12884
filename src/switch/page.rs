//! The small page a browser lands on after Zoom: what happened and what to do next.
//! Text only, escaped; a strict Content-Security-Policy; no secret, token or provider
//! body ever in it; never cached, never sent on as a referrer.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

pub struct Page {
    pub status: StatusCode,
    pub title: String,
    pub body: String,
    pub next: String,
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

impl Page {
    pub fn html(&self) -> String {
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title} · cutover</title>\
             <style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.5}}\
             h1{{font-size:1.4rem}}.next{{background:#f3f3f3;padding:.75rem 1rem;border-radius:.4rem}}</style></head>\
             <body><h1>{title}</h1><p>{body}</p><p class=\"next\">{next}</p></body></html>",
            title = escape(&self.title),
            body = escape(&self.body),
            next = escape(&self.next),
        )
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.html()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        // The address holds the code and state: keep it out of any Referer.
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        let page = Page {
            status: StatusCode::OK,
            title: "<script>alert(1)</script>".into(),
            body: "Tom & \"Jerry\"".into(),
            next: "it's".into(),
        };
        let html = page.html();
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("Tom &amp; &quot;Jerry&quot;"));
        assert!(html.contains("it&#39;s"));
        assert!(!html.contains("<script>"));
    }
}
