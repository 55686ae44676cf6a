//! `shmipc bench --plot FILE.svg`: the latency distribution of every timed
//! row side by side, on one logarithmic axis of nanoseconds: a line from
//! the 1st to the 99.9th percentile, a box from the 25th to the 75th, a mark
//! at the median and one at the 99th.

use std::path::Path;

use plotters::prelude::*;

/// One row's percentiles, in nanoseconds.
pub struct Spread {
    pub name: String,
    pub p1: f64,
    pub p25: f64,
    pub p50: f64,
    pub p75: f64,
    pub p99: f64,
    pub p999: f64,
}

const ROW_HEIGHT: u32 = 22;
const LABELS_WIDTH: u32 = 330;

/// Draws `rows`, top to bottom, into the SVG file at `path`.
pub fn draw(path: &Path, rows: &[Spread]) -> Result<(), String> {
    let error = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    if rows.is_empty() {
        return Err(error(&"no timed row to plot"));
    }
    let n = rows.len();
    let lo = rows.iter().map(|r| r.p1).fold(f64::MAX, f64::min).max(1.0) / 1.5;
    let hi = rows.iter().map(|r| r.p999).fold(1.0, f64::max) * 1.5;
    let root = SVGBackend::new(path, (1100, 60 + ROW_HEIGHT * n as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| error(&e))?;
    let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    let mut chart = ChartBuilder::on(&root)
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(LABELS_WIDTH)
        .build_cartesian_2d((lo..hi).log_scale(), -0.5..n as f64 - 0.5)
        .map_err(|e| error(&e))?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&|y| {
            // Row 0 is drawn at the top.
            let i = n as f64 - 1.0 - y.round();
            names
                .get(i as usize)
                .filter(|_| i >= 0.0 && (y - y.round()).abs() < 1e-6)
                .map_or(String::new(), |s| (*s).to_owned())
        })
        .x_desc("nanoseconds (log scale): 1st-99.9th percentile, box 25th-75th, median, 99th")
        .draw()
        .map_err(|e| error(&e))?;
    for (i, r) in rows.iter().enumerate() {
        let y = (n - 1 - i) as f64;
        let mark = |x: f64, half: f64, color: RGBColor| {
            PathElement::new(vec![(x, y - half), (x, y + half)], color.stroke_width(2))
        };
        chart
            .draw_series([
                PathElement::new(vec![(r.p1, y), (r.p999, y)], BLACK.stroke_width(1)),
                PathElement::new(vec![(r.p25, y), (r.p75, y)], BLUE.mix(0.5).stroke_width(10)),
            ])
            .map_err(|e| error(&e))?;
        chart
            .draw_series([mark(r.p50, 0.35, RED), mark(r.p99, 0.25, BLACK)])
            .map_err(|e| error(&e))?;
    }
    root.present().map_err(|e| error(&e))?;
    Ok(())
}
