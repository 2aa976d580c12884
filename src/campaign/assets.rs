//! The page's one stylesheet, one script and its icon, served by cutover itself (the page works
//! on a machine without internet). Their address carries a hash of their content, so
//! browsers may keep them for a year and still never run an old one.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

pub const ASSETS_PATH: &str = "/status/assets";

const STYLE: &str = include_str!("../../assets/campaign/campaign.css");
const SCRIPT: &str = include_str!("../../assets/campaign/campaign.js");
/// Without an icon of its own a browser asks for /favicon.ico, a 404 on the console of
/// every page.
const ICON: &str = include_str!("../../assets/campaign/icon.svg");

#[derive(Debug, Clone, Copy)]
pub(super) enum Asset {
    Style,
    Script,
    Icon,
}

impl Asset {
    fn content(self) -> &'static str {
        match self {
            Asset::Style => STYLE,
            Asset::Script => SCRIPT,
            Asset::Icon => ICON,
        }
    }

    fn file_name(self) -> &'static str {
        static NAMES: OnceLock<[String; 3]> = OnceLock::new();
        let names = NAMES.get_or_init(|| {
            let named = |stem: &str, ext: &str, content: &str| {
                let hash = hex::encode(&Sha256::digest(content.as_bytes())[..6]);
                format!("{stem}-{hash}.{ext}")
            };
            [
                named("campaign", "css", STYLE),
                named("campaign", "js", SCRIPT),
                named("icon", "svg", ICON),
            ]
        });
        match self {
            Asset::Style => &names[0],
            Asset::Script => &names[1],
            Asset::Icon => &names[2],
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Asset::Style => "text/css; charset=utf-8",
            Asset::Script => "text/javascript; charset=utf-8",
            Asset::Icon => "image/svg+xml",
        }
    }
}

pub(super) fn asset_url(asset: Asset) -> String {
    format!("{ASSETS_PATH}/{}", asset.file_name())
}

pub(super) async fn serve(Path(file): Path<String>) -> Response {
    let Some(asset) = [Asset::Style, Asset::Script, Asset::Icon]
        .into_iter()
        .find(|a| a.file_name() == file)
    else {
        return (StatusCode::NOT_FOUND, "no such file\n").into_response();
    };
    (
        [
            (header::CONTENT_TYPE, asset.content_type()),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        asset.content(),
    )
        .into_response()
}
