//! WCAG 2 contrast of the stylesheet's colour pairs, in both themes: 4.5:1 for text,
//! 3:1 for icons, bars and strips (non-text contrast, WCAG 1.4.11).

use std::collections::BTreeMap;

use crate::assets::CSS;

/// The relative luminance of `#rrggbb`.
fn luminance(hex: &str) -> f64 {
    let hex = hex.trim_start_matches('#');
    assert_eq!(hex.len(), 6, "colour {hex}");
    let channel = |i: usize| -> f64 {
        let v = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).expect("hex")) / 255.0;
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4)
}

/// The WCAG contrast ratio of two colours (1 to 21).
fn ratio(a: &str, b: &str) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

/// The custom properties declared after `marker`, up to the block's end.
fn palette(marker: &str) -> BTreeMap<String, String> {
    let start = CSS.find(marker).expect("palette marker");
    let block = &CSS[start..];
    let block = &block[..block.find('}').expect("block end")];
    block
        .lines()
        .filter_map(|line| {
            let line = line.trim().strip_prefix("--")?;
            let (name, value) = line.split_once(':')?;
            let value = value.trim().trim_end_matches(';').trim();
            value
                .starts_with('#')
                .then(|| (name.trim().to_owned(), value.to_owned()))
        })
        .collect()
}

const TONES: [&str; 6] = ["ok", "warn", "crit", "halt", "calm", "unk"];

#[test]
fn the_formula() {
    assert!((ratio("#000000", "#ffffff") - 21.0).abs() < 1e-9);
    assert!((ratio("#777777", "#777777") - 1.0).abs() < 1e-9);
    // A known pair: #767676 on white is just AA (4.54:1).
    assert!((ratio("#767676", "#ffffff") - 4.54).abs() < 0.01);
}

#[test]
fn every_pair_meets_wcag_aa_in_both_themes() {
    for marker in ["/* palette:light */", "/* palette:dark */"] {
        let p = palette(marker);
        let c = |name: &str| -> &str {
            p.get(name)
                .unwrap_or_else(|| panic!("{marker}: --{name} missing"))
        };
        let mut failures = Vec::new();
        let mut check = |fg: &str, bg: &str, min: f64| {
            let r = ratio(c(fg), c(bg));
            if r < min {
                failures.push(format!("{marker} --{fg} on --{bg}: {r:.2} < {min}"));
            }
        };
        for bg in ["bg", "panel"] {
            check("fg", bg, 4.5);
            check("muted", bg, 4.5);
            check("link", bg, 4.5);
            check("none", bg, 3.0);
        }
        for tone in TONES {
            let tint = format!("{tone}-bg");
            // Text on badges and banners.
            check("fg", &tint, 4.5);
            check("link", &tint, 4.5);
            // Icons and bars against the page, the panel and their own tint.
            check(tone, "bg", 3.0);
            check(tone, "panel", 3.0);
            check(tone, &tint, 3.0);
        }
        // The market-hours band under a lane.
        check("muted", "panel", 3.0);
        assert!(failures.is_empty(), "{failures:#?}");
    }
}

#[test]
fn both_themes_declare_the_same_colours() {
    let light: Vec<String> = palette("/* palette:light */").into_keys().collect();
    let dark: Vec<String> = palette("/* palette:dark */").into_keys().collect();
    assert_eq!(light, dark);
    assert_eq!(light.len(), 19);
}

/// The tone (icon, bar and strip colour) a state class declares.
fn tone_of(class: &str) -> String {
    let rule = format!(".{class} {{ --tone: var(--");
    let at = CSS
        .find(&rule)
        .unwrap_or_else(|| panic!("no rule for .{class}"))
        + rule.len();
    CSS[at..].split(')').next().unwrap_or_default().to_owned()
}

#[test]
fn every_state_has_a_colour_of_its_own() {
    // The legend's classes for the six states: bars and strips use their tones,
    // so Halted is never drawn as Offline.
    let states = [
        "st-ok",
        "st-degraded",
        "st-halted",
        "st-closed",
        "st-offline",
        "st-unknown",
    ];
    let tones: Vec<String> = states.iter().map(|c| tone_of(c)).collect();
    let distinct: std::collections::BTreeSet<&String> = tones.iter().collect();
    assert_eq!(distinct.len(), states.len(), "{states:?} → {tones:?}");
    let legend = include_str!("../templates/legend.html");
    for class in states {
        assert!(
            legend.contains(&format!("class=\"{class}\"")),
            "{class} not in the legend"
        );
    }
}
