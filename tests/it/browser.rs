//! A real browser for integration tests: Debian's headless Chromium, driven
//! over the DevTools protocol on a pipe (`--remote-debugging-pipe`: commands
//! on file descriptor 3, answers on 4, each JSON message ended by a NUL).
//!
//! Chromium's own stderr log does not say which console messages are errors
//! and never mentions failed resource loads, so the protocol is the reliable
//! source: `Runtime.consoleAPICalled` (console.error), `Runtime.exceptionThrown`
//! (uncaught exceptions) and `Log.entryAdded` at level error (failed loads,
//! blocked content).
//!
//! Each load starts a fresh browser with an empty profile and has one
//! deadline; a hung page or browser fails the test instead of hanging it.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};
use tempfile::TempDir;

/// The longest a page load may take, browser start included.
pub const PATIENCE: Duration = Duration::from_secs(45);

/// Why a page could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    #[error("Chromium not found at {0}; install it with `apt-get install -y chromium` or name another with CHROMIUM=")]
    Missing(PathBuf),
    #[error("could not start Chromium at {0}: {1}")]
    Spawn(PathBuf, std::io::Error),
    #[error("Chromium did not answer within {0:?} while {1}; its log ends with:\n{2}")]
    Timeout(Duration, String, String),
    #[error("Chromium exited while {0}; its log ends with:\n{1}")]
    Exited(String, String),
    #[error("DevTools call {0} failed: {1}")]
    Protocol(String, String),
    #[error("could not load {0}: {1}")]
    Navigation(String, String),
    #[error("could not write the screenshot {0}: {1}")]
    Screenshot(PathBuf, String),
}

/// What the browser made of a page.
#[derive(Debug, Clone)]
pub struct BrowserPage {
    /// `document.documentElement.outerHTML` after the load event.
    pub dom: String,
    /// console.error and console.assert messages, uncaught exceptions, and
    /// log entries at level error (failed resource loads), in order.
    pub console_errors: Vec<String>,
    /// The value of each expression the request asked to evaluate, in order.
    pub values: Vec<Value>,
}

/// A page to load.
#[derive(Debug, Clone)]
pub struct PageRequest {
    /// The URL to open.
    pub url: String,
    /// Where to write a PNG of the whole page, if anywhere.
    pub screenshot: Option<PathBuf>,
    /// JavaScript expressions evaluated after the load event; their values
    /// are returned by value (JSON).
    pub evaluate: Vec<String>,
    /// The deadline for the whole load, browser start included.
    pub timeout: Duration,
    /// The Chromium executable.
    pub chromium: PathBuf,
}

impl PageRequest {
    /// `url` with no screenshot, nothing to evaluate, the default Chromium
    /// and [`PATIENCE`].
    pub fn new(url: &str) -> Self {
        crate::prerequisites::require();
        Self {
            url: url.to_string(),
            screenshot: None,
            evaluate: Vec::new(),
            timeout: PATIENCE,
            chromium: crate::prerequisites::chromium(),
        }
    }

    /// Writes a full-page PNG to `path`.
    pub fn screenshot(mut self, path: &Path) -> Self {
        self.screenshot = Some(path.to_path_buf());
        self
    }

    /// Evaluates `expression` in the page after it loaded.
    pub fn evaluate(mut self, expression: &str) -> Self {
        self.evaluate.push(expression.to_string());
        self
    }

    /// Gives up after `timeout`.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Uses the Chromium at `path`.
    pub fn chromium(mut self, path: &Path) -> Self {
        self.chromium = path.to_path_buf();
        self
    }

    /// Loads the page in a fresh headless Chromium.
    pub fn load(&self) -> Result<BrowserPage, BrowserError> {
        if !self.chromium.is_file() {
            return Err(BrowserError::Missing(self.chromium.clone()));
        }
        let mut cdp = Cdp::start(&self.chromium, Instant::now() + self.timeout, self.timeout)?;
        let page = cdp.load(self);
        cdp.close();
        page
    }

    /// [`load`](Self::load) on a blocking thread, so that a server on the
    /// test's own runtime keeps answering; panics with the reason on failure.
    pub async fn load_async(self) -> BrowserPage {
        tokio::task::spawn_blocking(move || self.load())
            .await
            .expect("browser thread")
            .unwrap_or_else(|e| panic!("{e}"))
    }
}

/// Loads `url` and optionally writes a full-page screenshot; panics with the
/// reason when the browser is missing, fails or takes longer than
/// [`PATIENCE`]. Blocks: call it from a blocking thread when the server is on
/// the current runtime (or use [`PageRequest::load_async`]).
pub fn load_page(url: &str, screenshot: Option<&Path>) -> BrowserPage {
    let mut request = PageRequest::new(url);
    request.screenshot = screenshot.map(Path::to_path_buf);
    request.load().unwrap_or_else(|e| panic!("{e}"))
}

/// `target/screenshots/<name>.png`, the directory created; next to the test
/// binary's own target directory.
pub fn screenshot_path(name: &str) -> PathBuf {
    let dir = crate::prerequisites::target_dir().join("screenshots");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    dir.join(format!("{name}.png"))
}

impl BrowserPage {
    /// The serialized element whose id is `id`, from its start tag to its
    /// matching end tag.
    pub fn element(&self, id: &str) -> Option<&str> {
        element(&self.dom, id)
    }

    /// Panics unless the element `id` exists and holds an `<svg>` with at
    /// least `min` shapes; returns the number of shapes.
    pub fn assert_chart(&self, id: &str, min: usize) -> usize {
        let el = self
            .element(id)
            .unwrap_or_else(|| panic!("no element with id {id:?} in the DOM"));
        let svg = el
            .find("<svg")
            .map(|at| &el[at..])
            .unwrap_or_else(|| panic!("#{id} holds no <svg>:\n{el}"));
        let shapes = count_shapes(svg);
        assert!(
            shapes >= min,
            "#{id} has {shapes} shapes, expected at least {min}:\n{svg}"
        );
        shapes
    }

    /// Panics with every message unless the console stayed free of errors.
    pub fn assert_no_console_errors(&self) {
        assert!(
            self.console_errors.is_empty(),
            "console errors:\n{}",
            self.console_errors.join("\n")
        );
    }
}

/// The element of `html` whose id is `id`, from `<tag` to its `</tag>`;
/// nested elements of the same tag are counted (self-closing ones skipped).
/// Works on the browser's own serialization (double-quoted attributes).
pub fn element<'a>(html: &'a str, id: &str) -> Option<&'a str> {
    let attr = html.find(&format!(" id=\"{id}\""))?;
    let start = html[..attr].rfind('<')?;
    let name: String = html[start + 1..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    let mut depth = 0usize;
    let mut at = start;
    while let Some(offset) = html[at..].find('<') {
        at += offset;
        let rest = &html[at + 1..];
        if let Some(after) = rest.strip_prefix('/').and_then(|r| r.strip_prefix(name.as_str())) {
            if after.starts_with('>') {
                depth -= 1;
                if depth == 0 {
                    return Some(&html[start..at + name.len() + 3]);
                }
            }
        } else if starts_tag(rest, &name) && !rest.split('>').next().is_some_and(|tag| tag.ends_with('/')) {
            depth += 1;
        }
        at += 1;
    }
    None
}

/// Whether `rest` (the text after a `<`) opens a `name` element.
fn starts_tag(rest: &str, name: &str) -> bool {
    rest.strip_prefix(name)
        .and_then(|after| after.chars().next())
        .is_some_and(|c| c.is_whitespace() || c == '>' || c == '/')
}

/// The SVG shapes (rect, circle, ellipse, line, polyline, polygon, path) in
/// `html`.
pub fn count_shapes(html: &str) -> usize {
    ["rect", "circle", "ellipse", "line", "polyline", "polygon", "path"]
        .iter()
        .map(|tag| count_tags(html, tag))
        .sum()
}

/// How many `<tag` start tags `html` holds.
pub fn count_tags(html: &str, tag: &str) -> usize {
    html.match_indices('<')
        .filter(|(i, _)| starts_tag(&html[i + 1..], tag))
        .count()
}

/// One browser and its DevTools pipe.
struct Cdp {
    /// The browser process.
    child: Child,
    /// Commands go here (the browser's fd 3).
    commands: ChildStdin,
    /// Parsed messages from the browser's fd 4.
    messages: Receiver<Value>,
    /// Every event received so far, in order.
    events: Vec<Value>,
    /// Id of the next command.
    next_id: u64,
    /// When the whole load gives up.
    deadline: Instant,
    /// The timeout the deadline came from, for messages.
    timeout: Duration,
    /// The empty profile, removed after the browser exits.
    profile: TempDir,
}

impl Cdp {
    /// Starts Chromium with a fresh profile and the DevTools pipe on fds 3
    /// and 4 (moved there from stdin and stdout by `sh`).
    fn start(chromium: &Path, deadline: Instant, timeout: Duration) -> Result<Self, BrowserError> {
        let spawn_error = |e| BrowserError::Spawn(chromium.to_path_buf(), e);
        let profile = tempfile::tempdir().map_err(spawn_error)?;
        let log = std::fs::File::create(profile.path().join("chromium.log")).map_err(spawn_error)?;
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#"exec "$0" "$@" 3<&0 4>&1 0</dev/null 1>/dev/null"#)
            .arg(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-sync",
                "--hide-scrollbars",
                "--mute-audio",
                "--window-size=1280,900",
                "--remote-debugging-pipe",
            ])
            .arg(format!("--user-data-dir={}", profile.path().join("profile").display()))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(spawn_error)?;
        let commands = child.stdin.take().expect("piped stdin");
        let mut answers = child.stdout.take().expect("piped stdout");
        let (tx, messages) = mpsc::channel();
        std::thread::spawn(move || {
            let mut pending = Vec::new();
            let mut chunk = [0u8; 64 * 1024];
            while let Ok(n @ 1..) = answers.read(&mut chunk) {
                pending.extend_from_slice(&chunk[..n]);
                while let Some(end) = pending.iter().position(|b| *b == 0) {
                    let message: Vec<u8> = pending.drain(..=end).collect();
                    let Ok(value) = serde_json::from_slice::<Value>(&message[..end]) else {
                        continue;
                    };
                    if tx.send(value).is_err() {
                        return;
                    }
                }
            }
        });
        Ok(Self {
            child,
            commands,
            messages,
            events: Vec::new(),
            next_id: 1,
            deadline,
            timeout,
            profile,
        })
    }

    /// The last lines of Chromium's log, for error messages.
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.profile.path().join("chromium.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().filter(|l| !l.contains("dbus")).collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// The next message, or why none came in time.
    fn next_message(&mut self, doing: &str) -> Result<Value, BrowserError> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        match self.messages.recv_timeout(left) {
            Ok(message) => Ok(message),
            Err(RecvTimeoutError::Timeout) => Err(BrowserError::Timeout(self.timeout, doing.into(), self.log_tail())),
            Err(RecvTimeoutError::Disconnected) => Err(BrowserError::Exited(doing.into(), self.log_tail())),
        }
    }

    /// Sends a command and waits for its answer, keeping the events that
    /// arrive meanwhile.
    fn call(&mut self, method: &str, params: Value, session: Option<&str>) -> Result<Value, BrowserError> {
        let id = self.next_id;
        self.next_id += 1;
        let mut command = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            command["sessionId"] = json!(session);
        }
        let mut bytes = serde_json::to_vec(&command).expect("JSON");
        bytes.push(0);
        if self
            .commands
            .write_all(&bytes)
            .and_then(|()| self.commands.flush())
            .is_err()
        {
            return Err(BrowserError::Exited(format!("sending {method}"), self.log_tail()));
        }
        loop {
            let message = self.next_message(&format!("waiting for {method}"))?;
            if message["id"] == json!(id) {
                if let Some(error) = message.get("error") {
                    return Err(BrowserError::Protocol(method.into(), error.to_string()));
                }
                return Ok(message["result"].clone());
            }
            if message.get("method").is_some() {
                self.events.push(message);
            }
        }
    }

    /// Waits until an event after index `from` satisfies `matches`; returns
    /// its index.
    fn wait_for(&mut self, from: usize, doing: &str, matches: impl Fn(&Value) -> bool) -> Result<usize, BrowserError> {
        let mut seen = from;
        loop {
            if let Some(i) = self.events[seen..].iter().position(&matches) {
                return Ok(seen + i);
            }
            seen = self.events.len();
            let message = self.next_message(doing)?;
            if message.get("method").is_some() {
                self.events.push(message);
            }
        }
    }

    /// Opens a tab, navigates it to the request's URL, waits for the load
    /// event, then evaluates, serializes and photographs the page.
    fn load(&mut self, request: &PageRequest) -> Result<BrowserPage, BrowserError> {
        let target = self.call("Target.createTarget", json!({"url": "about:blank"}), None)?;
        let attached = self.call(
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
            None,
        )?;
        let session = attached["sessionId"].as_str().unwrap_or_default().to_string();
        let s = Some(session.as_str());
        for domain in ["Runtime.enable", "Log.enable", "Page.enable"] {
            self.call(domain, json!({}), s)?;
        }
        let from = self.events.len();
        let navigated = self.call("Page.navigate", json!({"url": request.url}), s)?;
        if let Some(error) = navigated.get("errorText").and_then(Value::as_str) {
            return Err(BrowserError::Navigation(request.url.clone(), error.to_string()));
        }
        let loader = navigated["loaderId"].clone();
        let committed = self.wait_for(from, "waiting for the page to commit", |e| {
            e["method"] == "Page.frameNavigated"
                && e["params"]["frame"]["loaderId"] == loader
                && e["params"]["frame"].get("parentId").is_none()
        })?;
        self.wait_for(committed, "waiting for the load event", |e| {
            e["method"] == "Page.loadEventFired"
        })?;
        let mut values = Vec::new();
        for expression in &request.evaluate {
            values.push(self.evaluate(expression, s)?);
        }
        let dom = self.evaluate("document.documentElement.outerHTML", s)?;
        if let Some(path) = &request.screenshot {
            self.screenshot(path, s)?;
        }
        let console_errors = self.events.iter().filter_map(|e| console_error(e, &session)).collect();
        Ok(BrowserPage {
            dom: dom.as_str().unwrap_or_default().to_string(),
            console_errors,
            values,
        })
    }

    /// The JSON value of `expression`; an exception is an error.
    fn evaluate(&mut self, expression: &str, session: Option<&str>) -> Result<Value, BrowserError> {
        let params = json!({"expression": expression, "returnByValue": true, "awaitPromise": true});
        let result = self.call("Runtime.evaluate", params, session)?;
        if let Some(details) = result.get("exceptionDetails") {
            return Err(BrowserError::Protocol(
                format!("Runtime.evaluate({expression})"),
                details.to_string(),
            ));
        }
        Ok(result["result"]["value"].clone())
    }

    /// Writes a PNG of the whole page (not only the window) to `path`.
    fn screenshot(&mut self, path: &Path, session: Option<&str>) -> Result<(), BrowserError> {
        let metrics = self.call("Page.getLayoutMetrics", json!({}), session)?;
        let size = &metrics["cssContentSize"];
        let clip = json!({"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1});
        let params = json!({"format": "png", "captureBeyondViewport": true, "clip": clip});
        let shot = self.call("Page.captureScreenshot", params, session)?;
        let failed = |e: String| BrowserError::Screenshot(path.to_path_buf(), e);
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap_or_default())
            .map_err(|e| failed(e.to_string()))?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| failed(e.to_string()))?;
        }
        std::fs::write(path, png).map_err(|e| failed(e.to_string()))
    }

    /// Asks the browser to quit and gives it a few seconds; `Drop` kills it
    /// if it is still there.
    fn close(&mut self) {
        if self.call("Browser.close", json!({}), None).is_err() {
            return;
        }
        let until = (Instant::now() + Duration::from_secs(5)).min(self.deadline);
        while Instant::now() < until && !matches!(self.child.try_wait(), Ok(Some(_))) {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Cdp {
    fn drop(&mut self) {
        if !matches!(self.child.try_wait(), Ok(Some(_))) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// The text of an event that reports an error on the page of `session`.
fn console_error(event: &Value, session: &str) -> Option<String> {
    if event["sessionId"] != session {
        return None;
    }
    let params = &event["params"];
    match event["method"].as_str()? {
        "Runtime.consoleAPICalled" if matches!(params["type"].as_str(), Some("error" | "assert")) => {
            let args: Vec<String> = params["args"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|a| match &a["value"] {
                    Value::String(s) => s.clone(),
                    Value::Null => a["description"].as_str().unwrap_or_default().to_string(),
                    other => other.to_string(),
                })
                .collect();
            Some(format!(
                "console.{}: {}",
                params["type"].as_str().unwrap_or("error"),
                args.join(" ")
            ))
        }
        "Runtime.exceptionThrown" => {
            let details = &params["exceptionDetails"];
            let text = details["exception"]["description"]
                .as_str()
                .or(details["text"].as_str());
            Some(format!("uncaught exception: {}", text.unwrap_or("?")))
        }
        "Log.entryAdded" if params["entry"]["level"] == "error" => {
            let entry = &params["entry"];
            Some(format!(
                "{}: {} ({})",
                entry["source"].as_str().unwrap_or("log"),
                entry["text"].as_str().unwrap_or_default(),
                entry["url"].as_str().unwrap_or_default()
            ))
        }
        _ => None,
    }
}

#[test]
fn element_finds_the_whole_element_with_nested_tags_of_its_kind() {
    let html = r#"<main><div id="a"><div>in<div/><div></div></div><svg><rect x="1"></rect><line/><linearGradient/></svg></div><div id="b"></div></main>"#;
    let a = element(html, "a").unwrap();
    assert!(a.starts_with(r#"<div id="a">"#) && a.ends_with("</svg></div>"), "{a}");
    assert_eq!(element(html, "b"), Some(r#"<div id="b"></div>"#));
    assert_eq!(element(html, "c"), None);
    assert_eq!(count_shapes(a), 2, "rect and line, not linearGradient");
    assert_eq!(count_tags(a, "div"), 4);
}

#[test]
fn a_missing_chromium_says_how_to_install_it() {
    let error = PageRequest::new("about:blank")
        .chromium(Path::new("/nonexistent/chromium"))
        .load()
        .unwrap_err();
    assert!(matches!(error, BrowserError::Missing(_)));
    assert!(error.to_string().contains("apt-get install -y chromium"), "{error}");
}

#[tokio::test]
async fn a_page_that_never_answers_fails_at_the_deadline() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    // Accepts connections and never answers them.
    let hold = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let started = Instant::now();
    let request = PageRequest::new(&url).timeout(Duration::from_secs(4));
    let result = tokio::task::spawn_blocking(move || request.load()).await.unwrap();
    hold.abort();
    let error = result.unwrap_err();
    assert!(matches!(error, BrowserError::Timeout(..)), "{error}");
    assert!(started.elapsed() < Duration::from_secs(15), "{:?}", started.elapsed());
}
