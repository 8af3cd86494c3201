//! A real headless Chromium driven over W3C WebDriver (Debian's `chromium` and
//! `chromedriver`): the few commands the browser suites use, over plain HTTP with
//! `reqwest`. The driver is a child process killed on drop, the browser gets a fresh
//! profile directory (removed on drop) and the flags that keep it from reaching out to
//! the network on its own (updates, sync, QUIC), which a closed CI network refuses.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context;
use base64::Engine;
use serde_json::{Value, json};

use crate::poll::eventually;

/// Where Debian installs the driver.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Where Debian installs the browser.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// The W3C key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Whether the browser suites can run here. Without the packages they are skipped, except
/// under CI (`CI` set), where `.ci/run` installs them and their absence is a failure.
pub fn available() -> anyhow::Result<bool> {
    let present = Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists();
    if !present && std::env::var_os("CI").is_some() {
        anyhow::bail!("CI is set but {CHROMIUM} or {CHROMEDRIVER} is missing: .ci/run installs them");
    }
    Ok(present)
}

/// A headless Chromium session.
pub struct Browser {
    http: reqwest::Client,
    /// The driver's session URL, `http://127.0.0.1:<port>/session/<id>`.
    session: String,
    /// Base URL prepended to paths given to [`Browser::open`].
    pub base: String,
    /// Where downloads land.
    pub downloads: PathBuf,
    profile: PathBuf,
    driver: Child,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ending the driver ends its browser.
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Browser {
    /// Starts chromedriver and a headless Chromium whose relative URLs start at `base`.
    pub async fn start(base: &str) -> anyhow::Result<Self> {
        let port = free_port()?;
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting chromedriver")?;
        let profile = std::env::temp_dir().join(format!("tillstream-chromium-{}", uuid::Uuid::now_v7().simple()));
        let downloads = profile.join("downloads");
        std::fs::create_dir_all(&downloads)?;
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;
        let driver_url = format!("http://127.0.0.1:{port}");
        let mut browser = Self {
            http,
            session: String::new(),
            base: base.trim_end_matches('/').to_owned(),
            downloads,
            profile,
            driver,
        };
        eventually("chromedriver to be ready", Duration::from_secs(20), || {
            let http = browser.http.clone();
            let url = format!("{driver_url}/status");
            async move {
                let ready = match http.get(url).send().await {
                    Ok(response) => response.json::<Value>().await?["value"]["ready"].as_bool() == Some(true),
                    Err(_) => false,
                };
                Ok(ready.then_some(()))
            }
        })
        .await?;
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1280,1700",
                    format!("--user-data-dir={}", browser.profile.join("profile").display())],
                "prefs": {
                    "download.default_directory": browser.downloads.display().to_string(),
                    "download.prompt_for_download": false,
                }
            }
        }}});
        let created: Value = browser
            .http
            .post(format!("{driver_url}/session"))
            .json(&capabilities)
            .send()
            .await?
            .json()
            .await?;
        let id = created["value"]["sessionId"]
            .as_str()
            .with_context(|| format!("starting a browser session: {created}"))?;
        browser.session = format!("{driver_url}/session/{id}");
        Ok(browser)
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        let mut request = self.http.request(method, format!("{}{path}", self.session));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.with_context(|| format!("WebDriver {path}"))?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .with_context(|| format!("WebDriver {path}: not JSON"))?;
        anyhow::ensure!(status.is_success(), "WebDriver {path}: {status} {}", body["value"]);
        Ok(body["value"].clone())
    }

    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.call(reqwest::Method::GET, path, None).await
    }

    /// Navigates to `path` (relative to [`Browser::base`]) and waits for the page.
    pub async fn open(&self, path: &str) -> anyhow::Result<()> {
        self.post("/url", json!({"url": format!("{}{path}", self.base)}))
            .await?;
        Ok(())
    }

    /// The current URL.
    pub async fn url(&self) -> anyhow::Result<String> {
        Ok(self.get("/url").await?.as_str().unwrap_or_default().to_owned())
    }

    /// The element references matching `css`.
    pub async fn find_all(&self, css: &str) -> anyhow::Result<Vec<String>> {
        let found = self
            .post("/elements", json!({"using": "css selector", "value": css}))
            .await?;
        Ok(found
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|e| e[ELEMENT].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Whether an element matches `css` now.
    pub async fn exists(&self, css: &str) -> anyhow::Result<bool> {
        Ok(!self.find_all(css).await?.is_empty())
    }

    /// The first element matching `css`, waiting up to 10 s for it.
    pub async fn find(&self, css: &str) -> anyhow::Result<String> {
        eventually(&format!("an element '{css}'"), Duration::from_secs(10), || async move {
            Ok(self.find_all(css).await?.into_iter().next())
        })
        .await
    }

    /// Finds the first element matching `css` and runs `act` on it. When the page replaced
    /// the element between the two requests (WebDriver's "stale element reference": a
    /// page that re-renders while a test polls it), the element is found again and `act`
    /// runs again, for up to 10 s; nothing else is retried.
    async fn on_element<T, F, Fut>(&self, css: &str, mut act: F) -> anyhow::Result<T>
    where
        F: FnMut(String) -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<T>>,
    {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let element = self.find(css).await?;
            match act(element).await {
                Err(err) if is_stale(&err) && tokio::time::Instant::now() < deadline => continue,
                done => return done,
            }
        }
    }

    /// The text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> anyhow::Result<String> {
        self.on_element(css, |element| async move {
            Ok(self
                .get(&format!("/element/{element}/text"))
                .await?
                .as_str()
                .unwrap_or_default()
                .to_owned())
        })
        .await
    }

    /// An attribute of the first element matching `css`.
    pub async fn attribute(&self, css: &str, name: &str) -> anyhow::Result<Option<String>> {
        self.on_element(css, |element| async move {
            Ok(self
                .get(&format!("/element/{element}/attribute/{name}"))
                .await?
                .as_str()
                .map(str::to_owned))
        })
        .await
    }

    /// Clears the field matching `css` and types `text` into it.
    pub async fn fill(&self, css: &str, text: &str) -> anyhow::Result<()> {
        self.on_element(css, |element| async move {
            self.post(&format!("/element/{element}/clear"), json!({})).await?;
            self.post(&format!("/element/{element}/value"), json!({"text": text}))
                .await?;
            Ok(())
        })
        .await
    }

    /// Clicks the element matching `css`.
    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        self.on_element(css, |element| async move {
            self.post(&format!("/element/{element}/click"), json!({})).await?;
            Ok(())
        })
        .await
    }

    /// Runs `script` in the page (as WebDriver does: not subject to the page's
    /// script-src) with `args`, returning its result.
    pub async fn execute(&self, script: &str, args: Value) -> anyhow::Result<Value> {
        self.post("/execute/sync", json!({"script": script, "args": args}))
            .await
    }

    /// Every cookie of the current page, as WebDriver describes them (`httpOnly`,
    /// `secure`, `sameSite`, ...).
    pub async fn cookies(&self) -> anyhow::Result<Vec<Value>> {
        Ok(self.get("/cookie").await?.as_array().cloned().unwrap_or_default())
    }

    /// Saves a PNG screenshot of the viewport to `path`.
    pub async fn screenshot(&self, path: &Path) -> anyhow::Result<()> {
        let data = self.get("/screenshot").await?;
        let png = base64::engine::general_purpose::STANDARD.decode(data.as_str().unwrap_or_default())?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, png).with_context(|| format!("writing {}", path.display()))
    }

    /// The handle of the current tab.
    pub async fn tab(&self) -> anyhow::Result<String> {
        Ok(self.get("/window").await?.as_str().unwrap_or_default().to_owned())
    }

    /// Opens a new tab (same cookies) and returns its handle; the current tab stays.
    pub async fn new_tab(&self) -> anyhow::Result<String> {
        let opened = self.post("/window/new", json!({"type": "tab"})).await?;
        Ok(opened["handle"].as_str().unwrap_or_default().to_owned())
    }

    /// Makes the tab `handle` the current one.
    pub async fn switch_to(&self, handle: &str) -> anyhow::Result<()> {
        self.post("/window", json!({"handle": handle})).await?;
        Ok(())
    }

    /// The file named `name` in the download directory, once the browser has finished it.
    pub async fn downloaded(&self, name: &str) -> anyhow::Result<String> {
        let path = self.downloads.join(name);
        eventually(&format!("the download {name}"), Duration::from_secs(15), || {
            let path = path.clone();
            async move { Ok(std::fs::read_to_string(&path).ok().filter(|s| !s.is_empty())) }
        })
        .await
    }
}

/// Whether WebDriver refused a request because the element it named is no longer in the
/// page ([`Browser`]'s requests fail with the driver's JSON error in their message).
fn is_stale(err: &anyhow::Error) -> bool {
    err.to_string().contains("stale element reference")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_stale_element_is_retried() {
        // The message `Browser::call` gives, with chromedriver's error body.
        let stale = anyhow::anyhow!(
            r#"WebDriver /element/f.1.d.2.e.204/text: 404 Not Found {{"error":"stale element reference","message":"stale element reference: stale element not found"}}"#
        );
        let missing = anyhow::anyhow!(
            r#"WebDriver /element/f.1.d.2.e.204/text: 404 Not Found {{"error":"no such element","message":"no such element"}}"#
        );
        assert!(is_stale(&stale));
        assert!(!is_stale(&missing));
        assert!(!is_stale(&anyhow::anyhow!("WebDriver /url: connection refused")));
    }
}
