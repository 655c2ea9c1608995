//! `keyscope whoami` against a loopback stand-in for the gateway's `GET /me` (the real gateway
//! on workerd is exercised by the npm consumer suite, `npm/test/consumer/whoami.test.mjs`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::{Command, Output, Stdio};

const GOOD: &str = "ck_live_goodgoodgoodgoodgoodgoodgoodgood1234";
const REVOKED: &str = "ck_live_revokedrevokedrevokedrevokedre5678";

/// Serves `GET /me` on loopback until the test ends: the `/me` view of a project key for
/// `GOOD`, `401 key_revoked` for `REVOKED`, `401 invalid_key` otherwise.
fn gateway() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/api/v1", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut auth = String::new();
            let mut path = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
                if path.is_empty() {
                    path = line.split(' ').nth(1).unwrap_or("").to_owned();
                }
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("authorization: ") {
                    auth = line[line.len() - value.len()..].trim().to_owned();
                }
            }
            let (status, body) = if path != "/api/v1/me" {
                (
                    "404 Not Found",
                    r#"{"reason":"not_found","message":"No such endpoint."}"#.to_owned(),
                )
            } else if auth == format!("Bearer {GOOD}") {
                ("200 OK", r#"{"apiKeyId":"k1","scope":"project","scopedProjectId":"p1","permissions":null,"organizationId":"org_a","role":"engineer","effectivePermissions":["read:project","read:entry"],"name":"deploy","hint":"1234"}"#.to_owned())
            } else if auth == format!("Bearer {REVOKED}") {
                (
                    "401 Unauthorized",
                    r#"{"reason":"key_revoked","message":"This API key has been revoked."}"#.to_owned(),
                )
            } else {
                (
                    "401 Unauthorized",
                    r#"{"reason":"invalid_key","message":"Invalid API key."}"#.to_owned(),
                )
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

fn whoami(args: &[&str], env_key: Option<&str>, stdin: &str) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_keyscope"));
    command
        .arg("whoami")
        .args(args)
        .env_remove("KEYSCOPE_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(key) = env_key {
        command.env("KEYSCOPE_KEY", key);
    }
    let mut child = command.spawn().unwrap();
    // With the key in the environment, or refused arguments, stdin may never be read.
    match child.stdin.take().unwrap().write_all(stdin.as_bytes()) {
        Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => panic!("writes: {err}"),
        _ => {}
    }
    child.wait_with_output().unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn all_required_present_prints_the_me_view() {
    let url = gateway();
    let out = whoami(
        &["--url", &url, "--require", "read:project,read:entry"],
        Some(GOOD),
        "",
    );
    assert!(out.status.success(), "{}", text(&out));
    let me: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(me["apiKeyId"], "k1");
    assert!(!text(&out).contains(&GOOD[8..]), "the key is never echoed");
}

#[test]
fn a_missing_permission_is_named_with_scope_and_project() {
    let url = gateway();
    let out = whoami(
        &[
            "--url",
            &format!("{url}/"),
            "--require",
            "read:project",
            "--require",
            "write:entry",
        ],
        None,
        &format!("{GOOD}\n"),
    );
    assert_eq!(out.status.code(), Some(1));
    let said = text(&out);
    assert!(said.contains("lacks write:entry"), "{said}");
    assert!(said.contains("project-scoped key (project p1)"), "{said}");
    assert!(said.contains("organization org_a"), "{said}");
    assert!(!said.contains(&GOOD[8..]), "the key is never echoed");
}

#[test]
fn a_revoked_key_says_so() {
    let url = gateway();
    let out = whoami(&["--url", &url, "--key-env", "OTHER_VAR"], None, REVOKED);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("revoked"), "{}", text(&out));
    assert!(!text(&out).contains(&REVOKED[8..]));
}

#[test]
fn an_unreachable_gateway_is_a_clear_error() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = whoami(
        &[
            "--url",
            &format!("http://127.0.0.1:{port}/api/v1"),
            "--timeout",
            "3",
        ],
        Some(GOOD),
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("could not reach the gateway"),
        "{}",
        text(&out)
    );
}

#[test]
fn no_key_and_no_url_are_refused() {
    let url = gateway();
    let out = whoami(&["--url", &url], None, "");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("no key"), "{}", text(&out));
    assert_eq!(whoami(&[], Some(GOOD), "").status.code(), Some(2));
}
