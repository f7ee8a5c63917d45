//! SVG is served from our own origin, so an uploaded one is parsed as XML (`quick-xml`, already
//! built for the XLSX reader), held to plain shapes, text, gradients and markers with presentation
//! attributes, and written back from what was parsed. Anything else is refused with its name:
//! scripts, event handlers, `<style>`, `<foreignObject>`, `<image>`, links, DTDs and entities,
//! references outside the file. The browser then reads exactly what was checked (no comments, no
//! odd spacing or escapes for its parser to read differently from ours). The `sandbox` CSP on
//! `/media` stays as a second wall.
//!
//! usvg was weighed and left: it re-renders text into paths (with a font database) or drops it,
//! and our illustrations are mostly text.

use std::borrow::Cow;

use quick_xml::events::{BytesStart, BytesText, Event};
use quick_xml::{Reader, Writer};

const SVG_NS: &str = "http://www.w3.org/2000/svg";
const XLINK_NS: &str = "http://www.w3.org/1999/xlink";

const ELEMENTS: &[&str] = &[
    "svg",
    "g",
    "defs",
    "title",
    "desc",
    "rect",
    "circle",
    "ellipse",
    "line",
    "polyline",
    "polygon",
    "path",
    "text",
    "tspan",
    "marker",
    "linearGradient",
    "radialGradient",
    "stop",
    "clipPath",
    "symbol",
    "use",
];

const ATTRIBUTES: &[&str] = &[
    "id",
    "class",
    "x",
    "y",
    "x1",
    "y1",
    "x2",
    "y2",
    "cx",
    "cy",
    "r",
    "rx",
    "ry",
    "fx",
    "fy",
    "dx",
    "dy",
    "width",
    "height",
    "d",
    "points",
    "pathLength",
    "viewBox",
    "preserveAspectRatio",
    "transform",
    "fill",
    "fill-opacity",
    "fill-rule",
    "stroke",
    "stroke-width",
    "stroke-opacity",
    "stroke-linecap",
    "stroke-linejoin",
    "stroke-dasharray",
    "stroke-dashoffset",
    "stroke-miterlimit",
    "opacity",
    "color",
    "visibility",
    "display",
    "clip-path",
    "clip-rule",
    "font-family",
    "font-size",
    "font-weight",
    "font-style",
    "font-variant",
    "text-anchor",
    "dominant-baseline",
    "alignment-baseline",
    "letter-spacing",
    "word-spacing",
    "text-decoration",
    "textLength",
    "lengthAdjust",
    "role",
    "aria-label",
    "aria-hidden",
    "aria-labelledby",
    "aria-describedby",
    "focusable",
    "version",
    "lang",
    "xml:lang",
    "xml:space",
    "xmlns",
    "xmlns:xlink",
    "marker-start",
    "marker-mid",
    "marker-end",
    "markerWidth",
    "markerHeight",
    "markerUnits",
    "refX",
    "refY",
    "orient",
    "offset",
    "stop-color",
    "stop-opacity",
    "gradientUnits",
    "gradientTransform",
    "spreadMethod",
    "clipPathUnits",
    "href",
    "xlink:href",
    "style",
];

fn refused(what: impl std::fmt::Display) -> String {
    format!(
        "SVG chỉ được có hình, chữ và màu; không nhận {what} / SVG may hold only shapes, text and colours: {what} refused"
    )
}

/// Parses `bytes` as SVG, checks it against the allow-list, and returns it written anew.
pub fn clean(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "SVG không phải UTF-8 / SVG is not UTF-8".to_owned())?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut writer = Writer::new(Vec::with_capacity(bytes.len()));
    let mut depth = 0usize;
    let mut seen_root = false;
    let bad_xml = |e: &dyn std::fmt::Display| format!("SVG không phải XML hợp lệ / SVG is not well-formed XML: {e}");
    loop {
        let event = reader.read_event().map_err(|e| bad_xml(&e))?;
        let out = match event {
            Event::Start(e) | Event::Empty(e) if depth == 0 && seen_root => {
                return Err(refused(format!("<{}> ngoài <svg>", e.name().as_ref())));
            }
            Event::Start(e) => {
                seen_root = true;
                depth += 1;
                Event::Start(element(&e, depth == 1)?)
            }
            Event::Empty(e) => {
                seen_root = true;
                Event::Empty(element(&e, depth == 0)?)
            }
            Event::End(e) => {
                depth = depth.checked_sub(1).ok_or_else(|| bad_xml(&"unbalanced end tag"))?;
                Event::End(e.into_owned())
            }
            Event::Text(t) => {
                let content = t.xml10_content();
                if depth == 0 {
                    if !content.trim().is_empty() {
                        return Err(refused("chữ ngoài <svg> / text outside <svg>"));
                    }
                    continue;
                }
                Event::Text(BytesText::new(&content).into_owned())
            }
            Event::CData(t) if depth > 0 => Event::Text(BytesText::new(&t.into_inner()).into_owned()),
            Event::GeneralRef(r) if depth > 0 => {
                let c = match r.resolve_char_ref().map_err(|e| bad_xml(&e))? {
                    Some(c) => c,
                    None => match &*r {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "apos" => '\'',
                        "quot" => '"',
                        other => return Err(refused(format!("&{other};"))),
                    },
                };
                Event::Text(BytesText::new(&c.to_string()).into_owned())
            }
            Event::Comment(_) | Event::Decl(_) => continue,
            Event::DocType(_) => return Err(refused("<!DOCTYPE>")),
            Event::PI(_) => return Err(refused("<?…?>")),
            Event::CData(_) | Event::GeneralRef(_) => {
                return Err(refused("nội dung ngoài <svg> / content outside <svg>"));
            }
            Event::Eof => break,
        };
        writer.write_event(out).map_err(|e| bad_xml(&e))?;
    }
    if !seen_root || depth != 0 {
        return Err(bad_xml(&"no complete <svg> element"));
    }
    Ok(writer.into_inner())
}

/// One element, its name and attributes checked, rebuilt from the parsed values.
fn element(e: &BytesStart<'_>, root: bool) -> Result<BytesStart<'static>, String> {
    let name = e.name().as_ref().to_owned();
    if root && name != "svg" {
        return Err(refused(format!("<{name}> làm gốc / <{name}> as the root")));
    }
    if !ELEMENTS.contains(&name.as_str()) {
        return Err(refused(format!("<{name}>")));
    }
    let mut out = BytesStart::new(name.clone());
    for attribute in e.attributes().with_checks(true) {
        let attribute =
            attribute.map_err(|err| format!("SVG không phải XML hợp lệ / SVG is not well-formed XML: {err}"))?;
        let key = attribute.key.as_ref();
        if !ATTRIBUTES.contains(&key) {
            return Err(refused(format!("thuộc tính {key} / attribute {key}")));
        }
        let value = attribute
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|err| refused(format!("{key}: {err}")))?;
        check_value(&name, key, &value)?;
        out.push_attribute((key, value.as_ref()));
    }
    Ok(out)
}

/// Values may point only inside the file (`#id`, `url(#id)`), and `style` only set colours, sizes
/// and fonts.
fn check_value(element: &str, key: &str, value: &str) -> Result<(), String> {
    let squeezed: String = value.chars().filter(|c| !c.is_whitespace() && !c.is_control()).collect::<String>();
    let lower = squeezed.to_ascii_lowercase();
    let bad = |why: &str| Err(refused(format!("{key}=\"{}\" ({why})", excerpt(value))));
    match key {
        "xmlns" if value != SVG_NS => return bad("namespace"),
        "xmlns:xlink" if value != XLINK_NS => return bad("namespace"),
        "href" | "xlink:href" if element != "use" || !value.starts_with('#') => {
            return bad("chỉ #id trong tệp / only #id within the file");
        }
        _ => {}
    }
    if lower.contains("javascript:") || lower.contains("data:") || lower.contains("@import") || lower.contains('\\') {
        return bad("mã hoặc tham chiếu / code or reference");
    }
    // Every url(…) names something in this file.
    if lower.match_indices("url(").any(|(i, _)| !lower[i + 4..].trim_start_matches(['"', '\'']).starts_with('#')) {
        return bad("url() ra ngoài tệp / url() outside the file");
    }
    if key == "style" && (lower.contains("expression(") || lower.contains("behavior") || lower.contains("-moz-binding"))
    {
        return bad("style");
    }
    Ok(())
}

fn excerpt(value: &str) -> Cow<'_, str> {
    if value.chars().count() > 40 {
        Cow::Owned(value.chars().take(40).collect::<String>() + "…")
    } else {
        value.into()
    }
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn plain_shapes_and_text_are_written_back() {
        let svg = "<?xml version=\"1.0\"?>\n<!-- drawn by hand -->\n<svg xmlns=\"http://www.w3.org/2000/svg\" \
                   viewBox=\"0 0 10 10\" role=\"img\"><title>Mã &amp; OTP</title><rect x=\"1\" fill=\"url(#g)\"/>\
                   <text x=\"1\" y=\"2\">Nguyễn &lt;3&#33;</text></svg>";
        let out = String::from_utf8(clean(svg.as_bytes()).unwrap()).unwrap();
        assert_eq!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 10 10\" role=\"img\"><title>Mã &amp; OTP</title>\
             <rect x=\"1\" fill=\"url(#g)\"/><text x=\"1\" y=\"2\">Nguyễn &lt;3!</text></svg>"
        );
        // Written back, it is accepted again unchanged.
        assert_eq!(clean(out.as_bytes()).unwrap(), out.as_bytes());
    }

    #[test]
    fn scripts_handlers_and_outside_references_are_refused() {
        for bad in [
            "<svg\tonload=\"alert(1)\"></svg>",
            "<svg\nonload=alert(1)></svg>",
            "<svg><a href=\"javascript&#58;alert(1)\"><text>x</text></a></svg>",
            "<svg><use href=\"javascript&#58;alert(1)\"/></svg>",
            "<svg><use xlink:href=\"https://evil.example/x.svg#a\"/></svg>",
            "<svg><script>alert(1)</script></svg>",
            "<svg><rect onclick=\"x()\"/></svg>",
            "<svg><image href=\"https://evil/x.png\"/></svg>",
            "<svg><foreignObject><p>x</p></foreignObject></svg>",
            "<svg><style>@import url(https://evil/x.css)</style></svg>",
            "<svg><rect style=\"fill:url(https://evil/x)\"/></svg>",
            "<svg><rect fill=\"url( 'https://evil/x')\"/></svg>",
            "<svg><rect style=\"fill:\\75rl(x)\"/></svg>",
            "<!DOCTYPE svg [<!ENTITY x \"y\">]><svg><text>&x;</text></svg>",
            "<svg><text>&x;</text></svg>",
            "<?xml-stylesheet href=\"x.css\"?><svg/>",
            "<svg xmlns=\"http://www.w3.org/1999/xhtml\"/>",
            "<svg/><svg/>",
            "<svg><rect></svg>",
            "<html><svg/></html>",
        ] {
            assert!(clean(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    /// Every illustration of the starter curriculum and the test fixtures passes as it is.
    #[test]
    fn the_curriculum_pictures_pass() {
        fn walk(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, found);
                } else if path.extension().is_some_and(|e| e == "svg") {
                    found.push(path);
                }
            }
        }
        let mut found = Vec::new();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        walk(&root.join("content"), &mut found);
        walk(&root.join("tests/fixtures"), &mut found);
        assert!(found.len() >= 44, "{}", found.len());
        for path in found {
            let bytes = std::fs::read(&path).unwrap();
            let cleaned = clean(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(clean(&cleaned).unwrap(), cleaned, "{}", path.display());
        }
    }
}
