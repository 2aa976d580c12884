//! The campaign page in a real browser: Debian's headless Chromium, driven over the
//! DevTools protocol, opens a `/status` sign-in link, reads the page, follows a
//! connection and the CSV, and sees a switch arrive through Server-Sent Events without a
//! reload, with nothing on the console, no exception and no refusal by the CSP.
//! Screenshots of each screen size and colour scheme go to target/campaign-screenshots/.

use crate::fake_discord::{self as discord, MEMBER};
use crate::fake_zoom::{CLIENT_ID, CLIENT_SECRET};
use crate::helpers::{
    at, authorize_link, Setup, Stopped, World, NOW, OTHER_USER, OWNER, PUBLIC_BASE,
};
use chromiumoxide::cdp::browser_protocol::emulation::{
    MediaFeature, SetDeviceMetricsOverrideParams, SetEmulatedMediaParams,
};
use chromiumoxide::cdp::browser_protocol::log::{EventEntryAdded, LogEntryLevel, LogEntrySource};
use chromiumoxide::cdp::browser_protocol::network::{
    EventLoadingFailed, EventLoadingFinished, EventResponseReceived, LoaderId, RequestId,
    ResourceType,
};
use chromiumoxide::cdp::browser_protocol::page::{
    CaptureScreenshotFormat, CaptureScreenshotParams, GetFrameTreeParams, Viewport,
};
use chromiumoxide::cdp::js_protocol::runtime::{
    ConsoleApiCalledType, EventConsoleApiCalled, EventExceptionThrown,
};
use chromiumoxide::cdp::IntoEventKind;
use chromiumoxide::{Browser, BrowserConfig, Page};
use cutover::domain::AuthType;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// Where Debian puts Chromium; `CHROMIUM` names another binary.
const CHROMIUM: &str = "/usr/bin/chromium";
/// How long the browser has for anything the test waits on.
const PATIENCE: Duration = Duration::from_secs(20);
/// A connection whose name is markup: the page must show it as text.
const MARKUP_NAME: &str = "<script>document.title='owned'</script> Payroll";

#[tokio::test]
async fn the_campaign_page_works_in_a_real_browser() {
    let w = campaign_world().await;
    let chromium = Chromium::launch().await;
    let page = chromium.watched_page().await;
    page.viewport(1280, 1600, false).await;

    page.open(&w.reachable(&sign_in_link(&w).await)).await;
    page.wait_for(
        "the campaign page, the sign-in token gone from the address",
        "() => location.pathname === '/status' && location.search === '' \
         && document.readyState === 'complete' && !!document.getElementById('progress-figure')",
    )
    .await;
    reads_the_campaign(&page).await;
    follows_a_connection_and_comes_back(&page).await;
    downloads_the_csv(&page).await;
    updates_without_a_reload(&w, &page).await;
    take_screenshots(&page).await;
    page.assert_no_problems();

    the_watchers_see_what_they_guard_against(&page).await;
    chromium.close().await;
}

/// Four connections, two owners, one named with markup, imported a week before NOW; one
/// switched four days later (so "1 of 4 migrated", and a burndown with a step in it).
async fn campaign_world() -> World {
    let w = Stopped::fresh(Setup::default())
        .await
        .start("2025-11-14T09:00:00Z")
        .await;
    w.app
        .seed(&[
            ("z1", "Zoom one", Some(OWNER), AuthType::Jwt),
            ("z2", "Zoom two", Some(OWNER), AuthType::Jwt),
            ("z3", MARKUP_NAME, Some(OTHER_USER), AuthType::Jwt),
            (
                "z4",
                "Webinar registrations",
                Some(OTHER_USER),
                AuthType::Jwt,
            ),
        ])
        .await;
    w.app.clock.set(at("2025-11-18T15:00:00Z"));
    w.switch_through_zoom("960", "z1").await;
    w.app.clock.set(at(NOW));
    w
}

impl World {
    /// The owner submits the Zoom app for `connection` (interaction `interaction`),
    /// follows the link through the fake Zoom and comes back: switched.
    async fn switch_through_zoom(&self, interaction: &str, connection: &str) {
        let answer = self
            .send(discord::modal_submit(
                interaction,
                &format!("c1:mf:{connection}"),
                &[("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)],
                OWNER,
            ))
            .await;
        let back = self.follow(&authorize_link(&answer["data"])).await;
        let (status, page, _) = self.callback(&back).await;
        assert_eq!(status, 200, "{connection} switched: {page}");
    }

    /// A link the program handed out (under `PUBLIC_BASE`), where the browser reaches it.
    fn reachable(&self, link: &str) -> String {
        let path = link
            .strip_prefix(PUBLIC_BASE)
            .expect("one of the program's links");
        self.app.url(path)
    }
}

/// The owner's `/status` in Discord: the link on its button.
async fn sign_in_link(w: &World) -> String {
    let answer = w
        .send(discord::command("961", "status", json!([]), OWNER, MEMBER))
        .await;
    let button = &answer["data"]["components"][0]["components"][0];
    assert_eq!(button["label"], "Open the campaign page", "{answer}");
    button["url"].as_str().expect("the link").to_owned()
}

async fn reads_the_campaign(page: &WatchedPage) {
    let seen: Value = page
        .eval(
            "() => {
                const shown = el => !!el && el.checkVisibility() && el.getBoundingClientRect().height > 0;
                const figure = document.getElementById('progress-figure');
                const owners = [...document.querySelectorAll('tr.owner')];
                const chart = document.querySelector('figure.chart svg');
                const markup = document.querySelector('a[href=\"/status/connections/z3\"]');
                return {
                    figure: shown(figure) ? figure.innerText : null,
                    owners: owners.filter(shown).length,
                    chart: shown(chart) ? chart.getBoundingClientRect().width : 0,
                    markup: shown(markup) ? markup.textContent : null,
                    scripts: document.querySelectorAll('main script').length,
                    title: document.title,
                };
            }",
        )
        .await;
    assert_eq!(seen["figure"], "1 of 4 migrated", "{seen}");
    assert_eq!(seen["owners"], 2, "a row for each owner, shown: {seen}");
    assert!(
        seen["chart"].as_f64().is_some_and(|w| w > 300.0),
        "the burndown drawn as SVG, shown: {seen}"
    );
    assert_eq!(
        seen["markup"], MARKUP_NAME,
        "markup in a name is text: {seen}"
    );
    assert_eq!(seen["scripts"], 0, "{seen}");
    assert_eq!(seen["title"], "Campaign · cutover", "{seen}");
}

async fn follows_a_connection_and_comes_back(page: &WatchedPage) {
    page.click("a[href='/status/connections/z1']").await;
    page.wait_for(
        "z1's page",
        "() => location.pathname === '/status/connections/z1' && document.readyState === 'complete'",
    )
    .await;
    let history: Value = page
        .eval(
            "() => ({
                title: document.querySelector('h1')?.innerText,
                actions: [...document.querySelectorAll('tbody tr td:nth-child(3)')].map(td => td.innerText),
            })",
        )
        .await;
    assert_eq!(history["title"], "Zoom one", "{history}");
    let actions = history["actions"].to_string();
    assert!(
        actions.contains("migration.link") && actions.contains("migration.switched"),
        "its history, the link and the switch: {history}"
    );

    page.run("() => history.back()").await;
    page.wait_for(
        "the campaign page again",
        "() => location.pathname === '/status' && document.readyState === 'complete' \
         && !!document.getElementById('progress-figure')",
    )
    .await;
}

async fn downloads_the_csv(page: &WatchedPage) {
    let csv: Value = page
        .eval(
            "async () => {
                const link = document.querySelector('a[download]');
                const answer = await fetch(link.href);
                return {
                    href: link.getAttribute('href'),
                    label: link.innerText,
                    status: answer.status,
                    type: answer.headers.get('content-type'),
                    disposition: answer.headers.get('content-disposition'),
                    text: await answer.text(),
                };
            }",
        )
        .await;
    assert!(
        csv["href"]
            .as_str()
            .is_some_and(|h| h.starts_with("/status/connections.csv")),
        "{csv}"
    );
    assert_eq!(csv["label"], "Download these as CSV", "{csv}");
    assert_eq!(csv["status"], 200, "{csv}");
    assert_eq!(csv["type"], "text/csv; charset=utf-8", "{csv}");
    assert_eq!(
        csv["disposition"],
        "attachment; filename=\"zoom-connections.csv\""
    );
    let text = csv["text"].as_str().unwrap_or_default();
    assert!(
        text.starts_with("id,name,state,owner,owner_id,integration,backend,last_change"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 5, "a header and four rows: {text}");
    assert!(text.contains(MARKUP_NAME), "{text}");
}

/// A switch made elsewhere (through Zoom) shows on the open page: the event stream says
/// something changed, the script fetches the page and swaps it in, the document stays.
async fn updates_without_a_reload(w: &World, page: &WatchedPage) {
    let swapped_already: bool = page
        .eval(
            "() => { window.keptSinceLoad = true; return 'updated' in document.getElementById('campaign').dataset; }",
        )
        .await;
    assert!(!swapped_already, "nothing swapped in yet");
    page.wait_for_live_stream().await;

    w.switch_through_zoom("962", "z2").await;
    page.wait_for(
        "the switch of z2 on the page, swapped in by the script",
        "() => document.getElementById('progress-figure')?.innerText === '2 of 4 migrated' \
         && !!document.getElementById('campaign').dataset.updated",
    )
    .await;
    let kept: bool = page.eval("() => window.keptSinceLoad === true").await;
    assert!(kept, "the page was updated in place, not reloaded");
}

/// The desktop at 1280 × 1600 (the README shows its light one), the phone at 360 px wide
/// from top to bottom; each light and dark.
async fn take_screenshots(page: &WatchedPage) {
    let folder = screenshot_folder();
    for (name, width, mobile) in [("desktop", 1280, false), ("phone", 360, true)] {
        page.viewport(width, 1600, mobile).await;
        let overflow: f64 = page
            .eval("() => document.documentElement.scrollWidth - window.innerWidth")
            .await;
        assert!(
            overflow <= 0.0,
            "the page fits {width} px without scrolling sideways ({overflow} px over)"
        );
        for scheme in ["light", "dark"] {
            page.color_scheme(scheme).await;
            page.run("() => window.scrollTo(0, 0)").await;
            page.screenshot(&folder.join(format!("{name}-{scheme}.png")), mobile)
                .await;
        }
    }
    page.color_scheme("light").await;
    page.viewport(1280, 1600, false).await;
}

/// `target/campaign-screenshots/`, made if need be.
fn screenshot_folder() -> PathBuf {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target folder");
    let folder = target.join("campaign-screenshots");
    std::fs::create_dir_all(&folder).expect("the screenshot folder");
    folder
}

/// Each watcher reports what it is for (a console error, an uncaught exception, a
/// resource the CSP refuses), so their silence above means something.
async fn the_watchers_see_what_they_guard_against(page: &WatchedPage) {
    page.run(
        "() => {
            console.error('a console error on purpose');
            setTimeout(() => { throw new Error('an exception on purpose'); });
            const image = new Image();
            image.src = 'http://127.0.0.1:9/refused-by-the-csp.png';
            document.body.append(image);
        }",
    )
    .await;
    let deadline = Instant::now() + PATIENCE;
    loop {
        let problems = page.problems();
        let seen = |what: &[&str]| {
            problems
                .iter()
                .any(|p| what.iter().all(|part| p.contains(part)))
        };
        if seen(&["console Error", "a console error on purpose"])
            && seen(&["exception", "an exception on purpose"])
            && seen(&[
                "refused-by-the-csp.png",
                "violates the following Content Security Policy",
            ])
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the watchers missed a problem made on purpose: {problems:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Chromium, headless, on a fresh profile, with the DevTools connection served.
struct Chromium {
    browser: Browser,
    connection: tokio::task::JoinHandle<()>,
    _profile: TempDir,
}

impl Chromium {
    async fn launch() -> Self {
        let executable =
            std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from(CHROMIUM), PathBuf::from);
        assert!(
            executable.is_file(),
            "the campaign page's browser test needs Chromium at {}: install Debian's chromium \
             (apt-get install chromium), or set CHROMIUM to a Chromium binary",
            executable.display()
        );
        let profile = tempfile::tempdir().expect("a profile folder");
        let config = BrowserConfig::builder()
            .chrome_executable(&executable)
            .disable_default_args()
            .no_sandbox()
            .user_data_dir(profile.path())
            .viewport(None)
            .args([
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
            ])
            .build()
            .expect("a browser configuration");
        let (browser, mut handler) = Browser::launch(config)
            .await
            .unwrap_or_else(|e| panic!("Chromium at {} did not start: {e}", executable.display()));
        let connection = tokio::spawn(async move { while handler.next().await.is_some() {} });
        Self {
            browser,
            connection,
            _profile: profile,
        }
    }

    async fn watched_page(&self) -> WatchedPage {
        let page = self.browser.new_page("about:blank").await.expect("a tab");
        WatchedPage::watch(page).await
    }

    async fn close(mut self) {
        self.browser.close().await.expect("Chromium closes");
        self.browser.wait().await.expect("Chromium exits");
        self.connection.abort();
    }
}

/// What the tab reported, as its watchers note it.
#[derive(Default)]
struct Reports {
    /// What a working page never makes: console errors and warnings, uncaught
    /// exceptions, resources the CSP refused.
    problems: Vec<String>,
    /// The event streams (`/status/events`) open now, each with the document it serves.
    streams: HashMap<RequestId, LoaderId>,
}

/// A tab, and what the browser reported about it.
struct WatchedPage {
    page: Page,
    reports: Arc<Mutex<Reports>>,
}

impl WatchedPage {
    async fn watch(page: Page) -> Self {
        let reports = Arc::new(Mutex::new(Reports::default()));
        note_each(&page, &reports, console_call).await;
        note_each(&page, &reports, exception).await;
        note_each(&page, &reports, log_entry).await;
        note_each(&page, &reports, stream_opened).await;
        note_each(&page, &reports, |done: &EventLoadingFinished, r| {
            r.streams.remove(&done.request_id);
        })
        .await;
        note_each(&page, &reports, |failed: &EventLoadingFailed, r| {
            r.streams.remove(&failed.request_id);
        })
        .await;
        Self { page, reports }
    }

    fn problems(&self) -> Vec<String> {
        self.reports.lock().expect("reports").problems.clone()
    }

    fn assert_no_problems(&self) {
        let problems = self.problems();
        assert!(problems.is_empty(), "the browser reported: {problems:#?}");
    }

    /// Waits until the document shown has its event stream open: from then on it hears
    /// of every change.
    async fn wait_for_live_stream(&self) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let tree = self
                .page
                .execute(GetFrameTreeParams::default())
                .await
                .expect("the tab's frames");
            let shown = &tree.result.frame_tree.frame.loader_id;
            if self
                .reports
                .lock()
                .expect("reports")
                .streams
                .values()
                .any(|document| document == shown)
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the page shown has no event stream open; the browser reported: {:#?}",
                self.problems()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn open(&self, url: &str) {
        self.page
            .goto(url)
            .await
            .expect("the browser opens the link");
    }

    /// The value of a JavaScript function run in the tab (a promise awaited).
    async fn eval<T: DeserializeOwned>(&self, function: &str) -> T {
        self.page
            .evaluate_function(function)
            .await
            .unwrap_or_else(|e| panic!("{function} in the tab: {e}"))
            .into_value()
            .unwrap_or_else(|e| panic!("{function}'s value: {e}"))
    }

    /// Runs a JavaScript function in the tab for what it does.
    async fn run(&self, function: &str) {
        self.page
            .evaluate_function(function)
            .await
            .unwrap_or_else(|e| panic!("{function} in the tab: {e}"));
    }

    /// Polls `condition` (a JavaScript function) until it is true, a navigation in
    /// between or not.
    async fn wait_for(&self, what: &str, condition: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let met = self
                .page
                .evaluate_function(condition)
                .await
                .ok()
                .and_then(|r| r.into_value::<bool>().ok());
            if met == Some(true) {
                return;
            }
            if Instant::now() >= deadline {
                let url = self.page.url().await.ok().flatten();
                panic!(
                    "waited {PATIENCE:?} for {what}, at {url:?}; the browser reported: {:#?}",
                    self.problems()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn click(&self, selector: &str) {
        self.page
            .find_element(selector)
            .await
            .unwrap_or_else(|e| panic!("{selector} on the page: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("a click on {selector}: {e}"));
    }

    async fn viewport(&self, width: i64, height: i64, mobile: bool) {
        self.page
            .execute(SetDeviceMetricsOverrideParams::new(
                width, height, 1.0, mobile,
            ))
            .await
            .expect("the screen size");
    }

    async fn color_scheme(&self, scheme: &str) {
        self.page
            .execute(
                SetEmulatedMediaParams::builder()
                    .feature(MediaFeature::new("prefers-color-scheme", scheme))
                    .build(),
            )
            .await
            .expect("the colour scheme");
    }

    /// A PNG of the viewport, or of the whole page (`whole`).
    async fn screenshot(&self, path: &Path, whole: bool) {
        let mut params = CaptureScreenshotParams::builder().format(CaptureScreenshotFormat::Png);
        if whole {
            let (width, height): (f64, f64) = self
                .eval("() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
                .await;
            params = params.capture_beyond_viewport(true).clip(Viewport {
                x: 0.0,
                y: 0.0,
                width,
                height,
                scale: 1.0,
            });
        }
        let shot = self
            .page
            .execute(params.build())
            .await
            .expect("a screenshot");
        use base64::Engine;
        let png = base64::engine::general_purpose::STANDARD
            .decode(&shot.data)
            .expect("a PNG in base64");
        std::fs::write(path, png).expect("the screenshot saved");
    }
}

/// Notes each `T` the tab reports with `note`, from now on.
async fn note_each<T>(page: &Page, reports: &Arc<Mutex<Reports>>, note: fn(&T, &mut Reports))
where
    T: IntoEventKind + Unpin + Send + Sync + 'static,
{
    let mut events = page.event_listener::<T>().await.expect("a watcher");
    let reports = Arc::clone(reports);
    tokio::spawn(async move {
        while let Some(event) = events.next().await {
            note(&event, &mut reports.lock().expect("reports"));
        }
    });
}

fn console_call(call: &EventConsoleApiCalled, reports: &mut Reports) {
    use ConsoleApiCalledType::{Assert, Error, Warning};
    if matches!(call.r#type, Error | Warning | Assert) {
        let args: Vec<_> = call.args.iter().filter_map(|a| a.value.clone()).collect();
        reports
            .problems
            .push(format!("console {:?}: {args:?}", call.r#type));
    }
}

fn exception(thrown: &EventExceptionThrown, reports: &mut Reports) {
    let details = &thrown.exception_details;
    let description = details
        .exception
        .as_ref()
        .and_then(|e| e.description.clone());
    reports
        .problems
        .push(format!("exception: {} {description:?}", details.text));
}

/// The browser's own messages: a failed load, a CSP refusal and the like.
fn log_entry(added: &EventEntryAdded, reports: &mut Reports) {
    let entry = &added.entry;
    if entry.level == LogEntryLevel::Error
        || (entry.level == LogEntryLevel::Warning && entry.source == LogEntrySource::Security)
    {
        reports.problems.push(format!(
            "{:?} {:?}: {} ({:?})",
            entry.source, entry.level, entry.text, entry.url
        ));
    }
}

fn stream_opened(received: &EventResponseReceived, reports: &mut Reports) {
    if received.r#type == ResourceType::EventSource
        && received.response.url.ends_with("/status/events")
        && received.response.status == 200
    {
        reports
            .streams
            .insert(received.request_id.clone(), received.loader_id.clone());
    }
}
