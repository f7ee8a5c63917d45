//! QR codes as SVG for documents (black modules on white, no quiet zone: the template adds it).

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// The code for `text` as an SVG file, at error correction M (L if M does not fit); `None` when
/// the text is too long for any QR code.
pub fn svg(text: &str) -> Option<Vec<u8>> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .or_else(|_| QrCode::with_error_correction_level(text.as_bytes(), EcLevel::L))
        .ok()?;
    let image = code
        .render::<svg::Color>()
        .quiet_zone(false)
        .module_dimensions(4, 4)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    Some(image.into_bytes())
}
