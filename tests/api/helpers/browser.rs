//! Headless Chromium (Debian's `chromium`, installed by `tests/run.sh`) on a page of the
//! service, and reading what it rendered: the dashboard's figures sit in elements with stable
//! `id`s and `data-field`s, their raw numbers in `data-value`.

use std::path::Path;

/// Runs headless Chromium on `url` with `flags`; returns its standard output.
pub async fn chromium(profile: &Path, flags: &[&str], url: &str) -> String {
    let output = tokio::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            // Virtual time runs the page's fetch and rendering before the dump.
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(flags)
        .arg(url)
        .output()
        .await
        .expect("chromium runs (Debian package `chromium`, installed by tests/run.sh)");
    assert!(output.status.success(), "chromium: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// The element inside the card of `slo` whose attributes begin with `attributes`: its
/// `data-value` (when it has one) and its text.
pub fn rendered(dom: &str, slo: &str, attributes: &str) -> (Option<String>, String) {
    let card_start = dom
        .find(&format!("id=\"slo-{slo}\""))
        .unwrap_or_else(|| panic!("no card for {slo} in the page"));
    let card = &dom[card_start..];
    let card = &card[..card.find("</article>").unwrap()];
    let at = card
        .find(attributes)
        .unwrap_or_else(|| panic!("no element with {attributes} in the card of {slo}"));
    let tag = &card[at..];
    let tag_end = tag.find('>').unwrap();
    let value = tag[..tag_end]
        .split("data-value=\"")
        .nth(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_owned());
    let text = &tag[tag_end + 1..];
    (value, text[..text.find('<').unwrap()].to_owned())
}

pub fn number(value: &Option<String>) -> Option<f64> {
    value
        .as_deref()
        .filter(|v| !v.is_empty())
        .map(|v| v.parse().unwrap())
}

/// The element with `id`: its `data-value` (when it has one) and its text up to the first tag.
pub fn by_id(dom: &str, id: &str) -> (Option<String>, String) {
    let at = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no element #{id} in the page"));
    let tag_start = dom[..at].rfind('<').unwrap();
    let tag = &dom[tag_start..];
    let tag_end = tag.find('>').unwrap();
    let value = attribute(&tag[..tag_end], "data-value");
    let text = &tag[tag_end + 1..];
    (
        value,
        text[..text.find('<').unwrap_or(text.len())].to_owned(),
    )
}

/// The value of `name` in an opening tag's text.
pub fn attribute(tag: &str, name: &str) -> Option<String> {
    tag.split(&format!(" {name}=\""))
        .nth(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
}
