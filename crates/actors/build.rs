//! Records the commit being built (`TESSERA_COMMIT`, for `tessera_build_info`): the
//! `TESSERA_COMMIT` environment variable when the build sets it (the image's build
//! argument: its context has no `.git`), else the checkout's short hash, else `unknown`.
fn main() {
    println!("cargo:rerun-if-env-changed=TESSERA_COMMIT");
    if let Some(commit) = std::env::var("TESSERA_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
    {
        println!("cargo:rustc-env=TESSERA_COMMIT={}", commit.trim());
        return;
    }
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=TESSERA_COMMIT={commit}");
    println!("cargo:rerun-if-changed=../../.git/HEAD");
    println!("cargo:rerun-if-changed=../../.git/refs/heads");
}
