//! The built-in SLO dashboard (`GET /slo`): one HTML page with its stylesheet and script
//! compiled into the binary, so it works offline and without a CDN. The page fetches
//! `slo.json` (a relative URL, so it also works under a path prefix) every few seconds and
//! draws everything itself: vanilla JavaScript, charts as inline SVG.
//!
//! Every figure is rendered into an element with a stable `id` or `data-field` attribute and
//! the raw number in `data-value`, so that tests can compare the page with `/slo.json`.
//! Nothing here computes figures: the page only formats what `/slo.json` says.

/// The page, with the stylesheet and the script inlined (one request, no other origin).
pub fn page() -> String {
    HTML.replace("/*STYLE*/", STYLE)
        .replace("/*SCRIPT*/", SCRIPT)
}

const HTML: &str = include_str!("slo.html");
const STYLE: &str = include_str!("slo.css");
const SCRIPT: &str = include_str!("slo.js");

#[cfg(test)]
mod tests {
    #[test]
    fn the_page_inlines_its_assets_and_loads_nothing_from_elsewhere() {
        let page = super::page();
        assert!(page.contains("function render("));
        assert!(page.contains(".slo-card"));
        assert!(!page.contains("/*STYLE*/") && !page.contains("/*SCRIPT*/"));
        // (The SVG namespace URI in the script is a name, not a fetch.)
        for outside in ["https://", "<link", "src=", "@import", "url("] {
            assert!(!page.contains(outside), "the page refers to {outside}");
        }
    }
}
