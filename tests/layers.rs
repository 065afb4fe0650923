//! The architecture as the code states it: which module imports which, read from every
//! `crate::…`, `super::…` and `self::…` path in `src/` (test modules left out). Two rules hold:
//! no two modules import each other, directly or through others, at any level of nesting; and
//! the top-level modules form the layers of [`LAYERS`], each importing only from layers below
//! it, with no exception.
//!
//! `cargo test --test layers -- --nocapture` prints the whole graph.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The top-level modules from the highest layer to the lowest; modules in one entry share a
/// layer. Arrows point down this list.
const LAYERS: &[&[&str]] = &[
    &["commands"],
    &["startup"],
    &["config"],
    &["cli"],
    &["grpc", "http"],
    &["service"],
    &["dashboard"],
    &["server"],
    &["health"],
    &["inference"],
    &["auth", "registry"],
    &["metrics"],
    &["slo", "store", "telemetry", "backoff"],
    &["model"],
];

type Module = Vec<String>;

/// One import: from a module to another, and where it is written.
#[derive(Clone, Debug)]
struct Import {
    from: Module,
    to: Module,
    at: String,
}

#[test]
fn modules_import_without_circles_and_down_the_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = module_files(&src);
    let modules: BTreeSet<Module> = files.keys().cloned().collect();
    let mut imports = Vec::new();
    for (module, path) in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let tokens = tokens(&without_test_modules(&text));
        let file = path.strip_prefix(&src).unwrap().display().to_string();
        imports.extend(imports_of(module, &tokens, &modules, &file));
    }

    // Between siblings: an import from a::b::c to a::d::e is one from a::b to a::d.
    let mut edges: BTreeMap<(Module, Module), Vec<String>> = BTreeMap::new();
    for import in &imports {
        let common = import
            .from
            .iter()
            .zip(&import.to)
            .take_while(|(a, b)| a == b)
            .count();
        if common == import.from.len() || common == import.to.len() {
            continue; // a module and its own ancestor or descendant
        }
        let key = (
            import.from[..=common].to_vec(),
            import.to[..=common].to_vec(),
        );
        edges.entry(key).or_default().push(import.at.clone());
    }

    println!("module imports ({} edges between siblings):", edges.len());
    for ((from, to), places) in &edges {
        println!(
            "  {} -> {}   ({})",
            from.join("::"),
            to.join("::"),
            places.join(", ")
        );
    }

    let circles = circles(&edges);
    for circle in &circles {
        println!("circle: {}", circle.join(" -> "));
    }

    let layer_of = |module: &str| {
        LAYERS
            .iter()
            .position(|layer| layer.contains(&module))
            .unwrap_or_else(|| panic!("the top-level module `{module}` is in no layer of LAYERS"))
    };
    let upward: Vec<String> = edges
        .iter()
        .filter(|((from, _), _)| from.len() == 1)
        .filter(|((from, to), _)| layer_of(&from[0]) > layer_of(&to[0]))
        .map(|((from, to), places)| format!("{} -> {} ({})", from[0], to[0], places.join(", ")))
        .collect();
    println!(
        "imports from a lower layer to a higher one: {}",
        upward.len()
    );
    for edge in &upward {
        println!("  {edge}");
    }

    assert!(circles.is_empty(), "modules import each other: {circles:?}");
    assert!(upward.is_empty(), "imports against the layers: {upward:#?}");
}

/// Every module of the library and its file: `src/a/b.rs` and `src/a/b/mod.rs` are `a::b`.
fn module_files(src: &Path) -> BTreeMap<Module, PathBuf> {
    let mut out = BTreeMap::new();
    let mut pending = vec![src.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(src).unwrap().with_extension("");
            let mut module: Module = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if module.last().is_some_and(|m| m == "mod") {
                module.pop();
            }
            match module.as_slice() {
                [only] if only == "main" => continue, // the binary, not the library
                [only] if only == "lib" => module.clear(),
                _ => {}
            }
            out.insert(module, path);
        }
    }
    out
}

/// The text with every `#[cfg(test)]` item cut out.
fn without_test_modules(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        rest = &rest[at + "#[cfg(test)]".len()..];
        // The item runs to its `;` or to the `}` closing its first `{`.
        let tokens = tokens(rest);
        let mut depth = 0usize;
        let mut end = rest.len();
        for token in &tokens {
            match token.text.as_str() {
                ";" if depth == 0 => {
                    end = token.end;
                    break;
                }
                "{" => depth += 1,
                "}" => {
                    depth -= 1;
                    if depth == 0 {
                        end = token.end;
                        break;
                    }
                }
                _ => {}
            }
        }
        out.push_str(&"\n".repeat(rest[..end].matches('\n').count()));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[derive(Debug)]
struct Token {
    text: String,
    line: usize,
    end: usize,
}

/// Identifiers, `::` and single punctuation of Rust source; comments, strings and characters
/// are skipped, so that a path written in a doc comment or a message is not an import.
fn tokens(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        match c {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    line += usize::from(bytes[i] == b'\n');
                    i += 1;
                }
                i += 2;
            }
            b'r' if matches!(bytes.get(i + 1), Some(b'#' | b'"')) => {
                let hashes = bytes[i + 1..].iter().take_while(|&&b| b == b'#').count();
                if bytes.get(i + 1 + hashes) != Some(&b'"') {
                    i += 1;
                    continue;
                }
                let closing = format!("\"{}", "#".repeat(hashes));
                let body = i + 2 + hashes;
                let len = text[body..].find(&closing).map_or(text.len() - body, |n| n);
                line += text[body..body + len].matches('\n').count();
                i = body + len + closing.len();
            }
            b'b' if bytes.get(i + 1) == Some(&b'"') => i += 1,
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    line += usize::from(bytes[i] == b'\n');
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'\'' => {
                // A character literal ('x', '\n', '\u{1F}') or a lifetime ('a).
                let closes = if bytes.get(i + 1) == Some(&b'\\') {
                    text[i + 2..].find('\'').map(|n| i + 2 + n)
                } else {
                    text[i + 1..]
                        .char_indices()
                        .nth(1)
                        .filter(|(_, c)| *c == '\'')
                        .map(|(n, _)| i + 1 + n)
                };
                i = closes.map_or(i + 1, |end| end + 1);
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                out.push(Token {
                    text: text[start..i].to_owned(),
                    line,
                    end: i,
                });
            }
            b':' if bytes.get(i + 1) == Some(&b':') => {
                i += 2;
                out.push(Token {
                    text: "::".into(),
                    line,
                    end: i,
                });
            }
            c if c.is_ascii_whitespace() || c.is_ascii_digit() => i += 1,
            _ => {
                i += text[i..].chars().next().map_or(1, char::len_utf8);
                out.push(Token {
                    text: text[start..i].to_owned(),
                    line,
                    end: i,
                });
            }
        }
    }
    out
}

/// The modules `module` imports: every path starting `crate::`, `super::` or `self::`, with
/// `{…}` groups expanded one level (enough for `use crate::{a, b::c}`).
fn imports_of(
    module: &Module,
    tokens: &[Token],
    modules: &BTreeSet<Module>,
    file: &str,
) -> Vec<Import> {
    let mut out = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let base: Module = match token.text.as_str() {
            "crate" => Vec::new(),
            "super" | "self" => {
                // Only the head of a path: `super::super::x` is read from its first `super`.
                if i > 0 && tokens[i - 1].text == "::" {
                    continue;
                }
                module.clone()
            }
            _ => continue,
        };
        let mut base = base;
        let mut j = i;
        if token.text == "super" {
            base.pop();
        }
        while tokens.get(j + 1).is_some_and(|t| t.text == "::")
            && tokens.get(j + 2).is_some_and(|t| t.text == "super")
        {
            base.pop();
            j += 2;
        }
        for path in paths_after(tokens, j) {
            let mut target = base.clone();
            for name in path {
                let mut deeper = target.clone();
                deeper.push(name);
                if modules.contains(&deeper) {
                    target = deeper;
                } else {
                    break;
                }
            }
            if target != *module {
                out.push(Import {
                    from: module.clone(),
                    to: target,
                    at: format!("{file}:{}", token.line),
                });
            }
        }
    }
    out
}

/// The paths following the path head at `head`: one for `head::a::b`, several for
/// `head::{a::b, c}`.
fn paths_after(tokens: &[Token], head: usize) -> Vec<Vec<String>> {
    let mut j = head + 1;
    let mut path = Vec::new();
    while tokens.get(j).is_some_and(|t| t.text == "::") {
        match tokens.get(j + 1) {
            Some(t) if t.text == "{" => {
                let mut group = Vec::new();
                let mut current = Vec::new();
                let mut depth = 0;
                for t in &tokens[j + 2..] {
                    match t.text.as_str() {
                        "{" => depth += 1,
                        "}" if depth == 0 => break,
                        "}" => depth -= 1,
                        "," if depth == 0 => {
                            group.push(std::mem::take(&mut current));
                        }
                        "::" => {}
                        name if depth == 0 && is_ident(name) => current.push(name.to_owned()),
                        _ => {}
                    }
                }
                group.push(current);
                return group
                    .into_iter()
                    .map(|tail| path.iter().cloned().chain(tail).collect())
                    .collect();
            }
            Some(t) if is_ident(&t.text) => {
                path.push(t.text.clone());
                j += 2;
            }
            _ => break,
        }
    }
    vec![path]
}

fn is_ident(text: &str) -> bool {
    text.bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
}

/// Every set of sibling modules that import each other, directly or in a ring (Tarjan's
/// strongly connected components of size two or more).
fn circles(edges: &BTreeMap<(Module, Module), Vec<String>>) -> Vec<Vec<String>> {
    let name = |m: &Module| m.join("::");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, to) in edges.keys() {
        graph.entry(name(from)).or_default().insert(name(to));
        graph.entry(name(to)).or_default();
    }
    struct Search<'g> {
        graph: &'g BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        found: Vec<Vec<String>>,
    }
    impl<'g> Search<'g> {
        fn visit(&mut self, node: &'g str) {
            let n = self.index.len();
            self.index.insert(node, n);
            self.low.insert(node, n);
            self.stack.push(node);
            for next in &self.graph[node] {
                if !self.index.contains_key(next.as_str()) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next.as_str()]);
                    self.low.insert(node, low);
                } else if self.stack.contains(&next.as_str()) {
                    let low = self.low[node].min(self.index[next.as_str()]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let at = self.stack.iter().position(|m| *m == node).unwrap();
                let component: Vec<String> = self
                    .stack
                    .split_off(at)
                    .into_iter()
                    .map(str::to_owned)
                    .collect();
                if component.len() > 1 {
                    self.found.push(component);
                }
            }
        }
    }
    let mut search = Search {
        graph: &graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !search.index.contains_key(node.as_str()) {
            search.visit(node);
        }
    }
    search.found
}
