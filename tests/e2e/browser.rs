//! Browser mode from a real page: headless Chromium, driven over WebDriver
//! (chromedriver; `scripts/test.sh` installs both from Debian), runs a page's script
//! on another path of the same site (Swagger UI at `/docs/`) through the whole cookie
//! flow: log in, read the CSRF value, refresh with it, refresh without it, log out.
use serde_json::{Value, json};
use std::time::Duration;
use tessera_tests::{TestApp, eventually};

/// A chromedriver of this test's own, stopped when dropped.
struct Driver {
    child: std::process::Child,
    url: String,
    client: awc::Client,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    async fn start() -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "chromedriver: {e} (bash scripts/test.sh installs chromium and chromium-driver)"
                )
            });
        let driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            client: awc::Client::builder()
                .timeout(Duration::from_secs(60))
                .finish(),
        };
        eventually("chromedriver answers", Duration::from_secs(20), || async {
            driver.call("GET", "/status", None).await["ready"] == true
        })
        .await;
        driver
    }

    /// One WebDriver command; its `value`.
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let req = self
            .client
            .request(method.parse().unwrap(), format!("{}{path}", self.url));
        let sent = match body {
            Some(b) => req.send_json(&b).await,
            None => req.send().await,
        };
        match sent {
            Ok(mut res) => {
                let v: Value = res.json().limit(1 << 20).await.unwrap_or(Value::Null);
                v["value"].clone()
            }
            Err(_) => Value::Null,
        }
    }

    /// A headless Chromium session.
    async fn session(&self) -> String {
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            },
        }}});
        let v = self.call("POST", "/session", Some(caps)).await;
        v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no browser session: {v}"))
            .to_owned()
    }
}

/// The page's script: each step's status and what the page could see.
const FLOW: &str = r#"
const done = arguments[arguments.length - 1];
const base = '/v1/tenants/acme';
const post = (path, body, headers) => fetch(base + path, {
  method: 'POST',
  credentials: 'same-origin',
  headers: Object.assign({'Content-Type': 'application/json'}, headers || {}),
  body: JSON.stringify(body || {}),
}).then(async r => ({status: r.status, body: await r.json().catch(() => null)}));
const csrf = () => (document.cookie.split('; ').find(c => c.startsWith('tessera_csrf=')) || '').slice(13);
(async () => {
  const out = {};
  out.login = await post('/token', {username: 'alice', password: 'correct horse'});
  out.cookies_after_login = document.cookie;
  out.csrf_after_login = csrf();
  out.refresh_without_header = await post('/token/refresh');
  out.refresh = await post('/token/refresh', {}, {'X-CSRF-Token': csrf()});
  out.csrf_after_refresh = csrf();
  out.me = await fetch(base + '/users/me', {headers: {Authorization: 'Bearer ' + out.refresh.body.access}})
    .then(r => r.status);
  out.revoke = await post('/token/revoke', {}, {'X-CSRF-Token': csrf()});
  out.refresh_after_revoke = await post('/token/refresh', {}, {'X-CSRF-Token': out.csrf_after_refresh});
  done(out);
})().catch(e => done({error: String(e)}));
"#;

#[actix_rt::test]
async fn a_page_on_another_path_runs_the_whole_cookie_flow() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({"refresh_cookie": true})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    let driver = Driver::start().await;
    let session = driver.session().await;
    let at = |cmd: &str| format!("/session/{session}{cmd}");
    driver
        .call(
            "POST",
            &at("/url"),
            Some(json!({"url": format!("{}/docs/", app.url)})),
        )
        .await;
    driver
        .call("POST", &at("/timeouts"), Some(json!({"script": 30_000})))
        .await;
    let out = driver
        .call(
            "POST",
            &at("/execute/async"),
            Some(json!({"script": FLOW, "args": []})),
        )
        .await;
    driver.call("DELETE", &at(""), None).await;
    assert!(out.get("error").is_none(), "{out}");

    // Logged in: the refresh token stays in its HttpOnly cookie, out of the page's
    // reach and out of the body; the CSRF value is in the body and in a cookie the
    // page (on /docs/, not under the tenant's path) can read.
    assert_eq!(out["login"]["status"], 200, "{out}");
    assert!(out["login"]["body"].get("refresh").is_none(), "{out}");
    let csrf = out["csrf_after_login"].as_str().unwrap_or_default();
    assert!(
        !csrf.is_empty(),
        "the page cannot read the CSRF cookie: {out}"
    );
    assert_eq!(out["login"]["body"]["csrf_token"], csrf, "{out}");
    assert!(
        !out["cookies_after_login"]
            .as_str()
            .unwrap_or_default()
            .contains("tessera_refresh"),
        "the refresh cookie is HttpOnly: {out}"
    );
    // The cookie alone does not refresh; with the header it does, and rotates.
    assert_eq!(out["refresh_without_header"]["status"], 403, "{out}");
    assert_eq!(out["refresh"]["status"], 200, "{out}");
    assert_eq!(out["me"], 200, "{out}");
    assert_ne!(
        out["csrf_after_refresh"], csrf,
        "a new CSRF value with the new cookie"
    );
    // Logged out: the refresh cookie is gone (the site-wide CSRF cookie alone grants
    // nothing and may serve another tenant's session) and the session cannot refresh.
    assert_eq!(out["revoke"]["status"], 200, "{out}");
    assert_ne!(out["refresh_after_revoke"]["status"], 200, "{out}");
}
