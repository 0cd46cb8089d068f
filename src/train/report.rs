//! Pictures of a run, written next to the output every few hundred steps: a sample grid (input,
//! then one column per style) and a loss-curve plot (log scale, smoothed).

use std::path::Path;
use std::sync::OnceLock;

use image::RgbImage;
use plotters::prelude::*;

use super::checkpoint::TrainState;
use crate::error::{Error, Result};
use crate::picture::save_png;

/// Tile rows of images into one PNG, written atomically.
pub fn save_grid(path: &Path, rows: &[Vec<RgbImage>]) -> Result<()> {
    let tile = rows[0][0].width();
    let columns = rows.iter().map(Vec::len).max().unwrap_or(1) as u32;
    let mut grid = RgbImage::from_pixel(
        columns * (tile + 2),
        rows.len() as u32 * (tile + 2),
        image::Rgb([255, 255, 255]),
    );
    for (r, row) in rows.iter().enumerate() {
        for (c, img) in row.iter().enumerate() {
            image::imageops::replace(
                &mut grid,
                img,
                i64::from(c as u32 * (tile + 2) + 1),
                i64::from(r as u32 * (tile + 2) + 1),
            );
        }
    }
    save_png(path, &grid)
}

/// A font for plot labels, from the system (DejaVu or Liberation); plots go without text if none.
fn font_available() -> bool {
    static FONT: OnceLock<bool> = OnceLock::new();
    *FONT.get_or_init(|| {
        const CANDIDATES: [&str; 3] = [
            "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
            "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
            "/usr/share/fonts/TTF/DejaVuSans.ttf",
        ];
        CANDIDATES
            .iter()
            .filter_map(|p| std::fs::read(p).ok())
            .any(|bytes| {
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok()
            })
    })
}

/// Moving average over `window` finite points.
fn smooth(series: &[f32], window: usize) -> Vec<Option<f32>> {
    (0..series.len())
        .map(|i| {
            let recent: Vec<f32> = series[i.saturating_sub(window - 1)..=i]
                .iter()
                .copied()
                .filter(|v| v.is_finite())
                .collect();
            (!recent.is_empty()).then(|| recent.iter().sum::<f32>() / recent.len() as f32)
        })
        .collect()
}

/// Plot every loss series (smoothed, absolute value, log scale) against the step.
pub fn save_loss_curve(path: &Path, state: &TrainState) -> Result<()> {
    let fail = |e: String| Error::Image {
        path: path.to_path_buf(),
        reason: e,
    };
    if state.history_steps.is_empty() {
        return Ok(());
    }
    let labels = font_available();
    let series: Vec<(&String, Vec<(f32, f32)>)> = state
        .history
        .iter()
        .map(|(name, values)| {
            let window = (values.len() / 50).clamp(1, 50);
            let points = smooth(values, window)
                .into_iter()
                .zip(&state.history_steps)
                .filter_map(|(v, &s)| v.map(|v| (s as f32, v.abs().max(1e-8))))
                .collect();
            (name, points)
        })
        .collect();
    let (lo, hi) = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|(_, v)| *v))
        .fold((f32::MAX, f32::MIN), |(a, b), v| (a.min(v), b.max(v)));
    let last = *state.history_steps.last().unwrap_or(&1) as f32;
    let mut buffer = vec![0u8; 900 * 500 * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, (900, 500)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
        let mut builder = ChartBuilder::on(&root);
        builder.margin(12);
        if labels {
            builder
                .caption("training losses", ("sans-serif", 20))
                .x_label_area_size(30)
                .y_label_area_size(60);
        }
        let mut chart = builder
            .build_cartesian_2d(0f32..last.max(1.0), (lo * 0.8..hi * 1.25).log_scale())
            .map_err(|e| fail(e.to_string()))?;
        let mut mesh = chart.configure_mesh();
        if !labels {
            mesh.disable_x_axis().disable_y_axis();
        }
        mesh.draw().map_err(|e| fail(e.to_string()))?;
        for (i, (name, points)) in series.into_iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let drawn = chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))
                .map_err(|e| fail(e.to_string()))?;
            if labels {
                drawn.label(name.as_str()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
            }
        }
        if labels {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .map_err(|e| fail(e.to_string()))?;
        }
        root.present().map_err(|e| fail(e.to_string()))?;
    }
    let image =
        RgbImage::from_raw(900, 500, buffer).ok_or_else(|| fail("plot buffer size".into()))?;
    save_png(path, &image)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn loss_curve_and_grid_are_written_as_png() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = TrainState::default();
        for step in 0..30u64 {
            state.step = step;
            state.record(&BTreeMap::from([
                ("style".to_string(), 1.0 / (step as f32 + 1.0)),
                ("content".to_string(), 0.5),
            ]));
        }
        let curve = dir.path().join("losses.png");
        save_loss_curve(&curve, &state).unwrap();
        let plot = image::open(&curve).unwrap().to_rgb8();
        assert_eq!(plot.dimensions(), (900, 500));
        assert!(plot.pixels().any(|p| p.0 != [255, 255, 255]), "blank plot");
        let grid = dir.path().join("grid.png");
        let tile = RgbImage::from_pixel(8, 8, image::Rgb([10, 20, 30]));
        save_grid(
            &grid,
            &[vec![tile.clone(), tile.clone()], vec![tile.clone(), tile]],
        )
        .unwrap();
        assert_eq!(image::open(&grid).unwrap().to_rgb8().dimensions(), (20, 20));
    }
}
