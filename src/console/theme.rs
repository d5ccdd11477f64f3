//! Colours by meaning (`ok`, `warn`, `error`, …), read from flat TOML files
//! in `themes/` that are compiled into the binary. Views ask the theme for a
//! style by meaning and never name a colour themselves, so `NO_COLOR` and a
//! light terminal are handled here once.

use anyhow::{Context, anyhow};
use ratatui::style::{Color, Modifier, Style};
use std::collections::BTreeMap;
use std::str::FromStr;

const THEMES: &[(&str, &str)] = &[
    ("default", include_str!("../../themes/default.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
];

const KEYS: &[&str] = &[
    "fg", "bg", "accent", "ok", "warn", "error", "muted", "border", "title", "gauge",
];

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub fg: Color,
    pub bg: Color,
    pub accent: Color,
    pub ok: Color,
    pub warn: Color,
    pub error: Color,
    pub muted: Color,
    pub border: Color,
    pub title: Color,
    pub gauge: Color,
    /// With `NO_COLOR`, every style is colourless; emphasis stays.
    pub colorless: bool,
}

pub fn names() -> impl Iterator<Item = &'static str> {
    THEMES.iter().map(|(n, _)| *n)
}

impl Theme {
    /// Loads a built-in theme by name. `no_color` is the value of the
    /// `NO_COLOR` variable: any non-empty value drops every colour.
    /// `name` may also be a theme file's path (anything with a `/` or
    /// ending in `.toml`), in the format of the files in `themes/`.
    pub fn load(name: &str, no_color: Option<&str>) -> anyhow::Result<Theme> {
        let mut t = if name.contains('/') || name.ends_with(".toml") {
            let text = std::fs::read_to_string(name)
                .with_context(|| format!("reading the theme file {name}"))?;
            Theme::parse(name, &text)?
        } else {
            let (_, text) = THEMES.iter().find(|(n, _)| *n == name).ok_or_else(|| {
                anyhow!(
                    "unknown theme {name:?}; built-in themes: {}, or a theme file's path (like themes/light.toml)",
                    names().collect::<Vec<_>>().join(", ")
                )
            })?;
            Theme::parse(name, text)?
        };
        t.colorless = no_color.is_some_and(|v| !v.is_empty());
        Ok(t)
    }

    /// Parses a theme file's text; errors name the theme, key and value.
    pub fn parse(name: &str, text: &str) -> anyhow::Result<Theme> {
        let table: BTreeMap<String, String> = toml::from_str(text)
            .with_context(|| format!("theme {name}: not a flat table of colour names"))?;
        if let Some(unknown) = table.keys().find(|k| !KEYS.contains(&k.as_str())) {
            anyhow::bail!(
                "theme {name}: unknown key {unknown:?}; known keys: {}",
                KEYS.join(", ")
            );
        }
        let get = |key: &str| -> anyhow::Result<Color> {
            let v = table
                .get(key)
                .ok_or_else(|| anyhow!("theme {name}: missing key {key:?}"))?;
            Color::from_str(v).map_err(|_| anyhow!("theme {name}: {key} = {v:?} is not a colour"))
        };
        Ok(Theme {
            fg: get("fg")?,
            bg: get("bg")?,
            accent: get("accent")?,
            ok: get("ok")?,
            warn: get("warn")?,
            error: get("error")?,
            muted: get("muted")?,
            border: get("border")?,
            title: get("title")?,
            gauge: get("gauge")?,
            colorless: false,
        })
    }

    fn paint(&self, c: Color) -> Style {
        if self.colorless {
            Style::new()
        } else {
            Style::new().fg(c)
        }
    }

    pub fn base(&self) -> Style {
        if self.colorless {
            Style::new()
        } else {
            Style::new().fg(self.fg).bg(self.bg)
        }
    }
    pub fn accent(&self) -> Style {
        self.paint(self.accent)
    }
    pub fn ok(&self) -> Style {
        self.paint(self.ok)
    }
    pub fn warn(&self) -> Style {
        self.paint(self.warn)
    }
    pub fn error(&self) -> Style {
        self.paint(self.error).add_modifier(Modifier::BOLD)
    }
    pub fn muted(&self) -> Style {
        self.paint(self.muted)
    }
    pub fn border(&self) -> Style {
        self.paint(self.border)
    }
    pub fn title(&self) -> Style {
        self.paint(self.title).add_modifier(Modifier::BOLD)
    }
    pub fn gauge(&self) -> Style {
        self.paint(self.gauge)
    }
    /// The selected row: reverse video, readable in every palette.
    pub fn selection(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_theme_parses() {
        for n in names() {
            Theme::load(n, None).unwrap();
        }
    }

    #[test]
    fn a_bad_colour_is_refused_naming_theme_and_key() {
        let e = Theme::parse("mine", "fg = \"chartreuse-ish\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("mine") && e.contains("fg"), "{e}");
    }

    #[test]
    fn a_theme_file_path_loads_that_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mine.toml");
        let text = include_str!("../../themes/light.toml")
            .replace("accent = \"blue\"", "accent = \"#112233\"");
        std::fs::write(&path, text).unwrap();
        let t = Theme::load(path.to_str().unwrap(), None).unwrap();
        assert_eq!(t.accent, Color::Rgb(0x11, 0x22, 0x33));
        let e = Theme::load("/nonexistent/theme.toml", None).unwrap_err();
        assert!(
            format!("{e:#}").contains("/nonexistent/theme.toml"),
            "{e:#}"
        );
    }

    /// WCAG contrast of an xterm-256 colour against white, from the
    /// palette's published RGB values (not from anything in this module).
    fn contrast_on_white(c: Color) -> f64 {
        let rgb = match c {
            Color::Black => (0, 0, 0),
            Color::Blue => (0, 0, 238),
            Color::Red => (205, 0, 0),
            Color::Magenta => (205, 0, 205),
            Color::Indexed(22) => (0, 95, 0),
            Color::Indexed(240) => (88, 88, 88),
            Color::Indexed(243) => (118, 118, 118),
            other => panic!("add {other:?}'s RGB to the test"),
        };
        let lin = |v: u8| {
            let v = v as f64 / 255.0;
            if v <= 0.03928 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        let l = 0.2126 * lin(rgb.0) + 0.7152 * lin(rgb.1) + 0.0722 * lin(rgb.2);
        1.05 / (l + 0.05)
    }

    #[test]
    fn the_light_theme_is_readable_on_white() {
        let t = Theme::load("light", None).unwrap();
        for (what, c) in [
            ("fg", t.fg),
            ("accent", t.accent),
            ("ok", t.ok),
            ("warn", t.warn),
            ("error", t.error),
            ("muted", t.muted),
            ("title", t.title),
        ] {
            let r = contrast_on_white(c);
            assert!(
                r >= 4.5,
                "{what} {c:?} has contrast {r:.1} on white (WCAG AA wants 4.5)"
            );
        }
        // Borders are decoration: 3:1 is the bar for non-text.
        assert!(contrast_on_white(t.border) >= 3.0);
    }

    #[test]
    fn an_unknown_theme_lists_the_known_ones() {
        let e = Theme::load("neon", None).unwrap_err().to_string();
        assert!(e.contains("high-contrast"), "{e}");
    }
}
