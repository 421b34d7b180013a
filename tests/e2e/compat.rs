//! An unmodified Django REST framework + simplejwt service accepts Tessera access
//! tokens, with JWK_URL pointed at the tenant's JWKS (tests/compat/simplejwt_check.py).
//! `scripts/test.sh` installs the pinned packages in a venv and sets
//! `TESSERA_COMPAT_PYTHON`; without it this test says so and checks nothing.
use serde_json::json;
use tessera_tests::{TestApp, s};

#[actix_rt::test]
async fn simplejwt_with_jwk_url_accepts_tessera_access_tokens() {
    let Some(python) = std::env::var_os("TESSERA_COMPAT_PYTHON") else {
        eprintln!(
            "TESSERA_COMPAT_PYTHON unset: simplejwt compatibility not checked (scripts/test.sh sets it)"
        );
        return;
    };
    let app = TestApp::start().await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/compat/simplejwt_check.py");
    for alg in ["ES256", "RS256", "ES384", "EdDSA"] {
        let slug = format!("dj-{}", alg.to_ascii_lowercase());
        app.tenant(&slug, json!({"algorithm": alg, "audience": "orders-api"}))
            .await;
        let uid = app.user(&slug, "alice", "correct horse", json!({})).await;
        let pair = app.login(&slug, "alice", "correct horse").await;
        let base = format!("{}/v1/tenants/{slug}", app.url);
        let jwk_url = format!("{base}/.well-known/jwks.json");
        let check = |token: String| {
            let args = [
                script.to_owned(),
                alg.to_owned(),
                jwk_url.clone(),
                base.clone(),
                "orders-api".to_owned(),
                token,
            ];
            let python = python.clone();
            // The script fetches the JWKS from this server: run it off the test's runtime.
            actix_web::rt::task::spawn_blocking(move || {
                std::process::Command::new(python)
                    .args(args)
                    .output()
                    .expect("python runs")
            })
        };
        let ok = check(s(&pair, "access")).await.unwrap();
        let out =
            String::from_utf8_lossy(&ok.stdout).into_owned() + &String::from_utf8_lossy(&ok.stderr);
        assert!(
            ok.status.success(),
            "{alg}: simplejwt rejected a Tessera access token: {out}"
        );
        assert_eq!(
            out.split_whitespace().take(2).collect::<Vec<_>>(),
            vec![uid.as_str(), "access"],
            "{alg}: {out}"
        );

        // And it rejects what it must: a refresh token is not an access token.
        let bad = check(s(&pair, "refresh")).await.unwrap();
        assert!(
            !bad.status.success(),
            "{alg}: simplejwt accepted a refresh token as access"
        );
    }
}
