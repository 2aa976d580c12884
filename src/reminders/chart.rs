//! The burndown: connections not yet migrated over time (from the audit log), each
//! deadline marked, today's position, and the projected finish at the recent rate. One
//! drawing, by plotters: a PNG on a bitmap with DejaVu Sans compiled in (so it renders
//! the same on a machine with no fonts at all) for chat, an SVG for the campaign page.

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;
use std::sync::OnceLock;

pub const WIDTH: u32 = 960;
pub const HEIGHT: u32 = 480;
/// The rate is measured over this much recent history.
const RATE_WINDOW: TimeDelta = TimeDelta::days(14);
const FONT: &str = "sans-serif";
const DAY_SECONDS: f64 = 86_400.0;

/// What the chart shows.
#[derive(Debug, Clone)]
pub struct Burndown {
    /// (when, how many were left then), oldest first; the last is now.
    pub points: Vec<(DateTime<Utc>, u64)>,
    /// (when, title) of each deadline.
    pub deadlines: Vec<(DateTime<Utc>, String)>,
    pub now: DateTime<Utc>,
    pub timezone: Tz,
}

#[derive(Debug, thiserror::Error)]
#[error("the burndown chart could not be drawn: {0}")]
pub struct ChartError(String);

fn error(e: impl std::fmt::Display) -> ChartError {
    ChartError(e.to_string())
}

/// When the last connection would be switched at the rate of the last two weeks;
/// `None` while nothing moves (or nothing is left).
pub fn projected_finish(
    points: &[(DateTime<Utc>, u64)],
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let (_, left) = *points.last()?;
    if left == 0 {
        return None;
    }
    let since = now - RATE_WINDOW;
    // The count as the window opened: the last point at or before it, else the first.
    let (start_at, start_left) = points
        .iter()
        .rev()
        .find(|(at, _)| *at <= since)
        .or_else(|| points.first())
        .map(|(at, n)| ((*at).max(since), *n))?;
    let days = (now - start_at).num_seconds() as f64 / DAY_SECONDS;
    let done = start_left.saturating_sub(left) as f64;
    if days <= 0.0 || done <= 0.0 {
        return None;
    }
    let rate = done / days;
    let to_go =
        TimeDelta::seconds((left as f64 / rate * DAY_SECONDS).min(3_650.0 * DAY_SECONDS) as i64);
    Some(now + to_go)
}

fn register_font() -> Result<(), ChartError> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            plotters::style::register_font(
                FONT,
                FontStyle::Normal,
                include_bytes!("../../assets/fonts/DejaVuSans.ttf"),
            )
            .map_err(|_| "the compiled-in font does not load".to_owned())
        })
        .clone()
        .map_err(ChartError)
}

fn days(at: DateTime<Utc>) -> f64 {
    at.timestamp() as f64 / DAY_SECONDS
}

/// The chart as PNG bytes, `WIDTH` × `HEIGHT`.
pub fn render(burndown: &Burndown) -> Result<Vec<u8>, ChartError> {
    register_font()?;
    let mut pixels = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    draw(
        BitMapBackend::with_buffer(&mut pixels, (WIDTH, HEIGHT)).into_drawing_area(),
        burndown,
    )?;
    let image = image::RgbImage::from_raw(WIDTH, HEIGHT, pixels)
        .ok_or_else(|| ChartError("the bitmap has the wrong size".into()))?;
    let mut png = Vec::new();
    image
        .write_to(
            &mut std::io::Cursor::new(&mut png),
            image::ImageOutputFormat::Png,
        )
        .map_err(error)?;
    Ok(png)
}

/// The same chart as an SVG document, for the campaign page.
pub fn render_svg(burndown: &Burndown) -> Result<String, ChartError> {
    register_font()?;
    let mut svg = String::new();
    draw(
        SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area(),
        burndown,
    )?;
    Ok(svg)
}

/// What the axes span: from a week back (or the first point) to the furthest of a week
/// ahead, the next deadlines and the projected finish (at most half a year out).
struct Frame {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    top: f64,
    finish: Option<DateTime<Utc>>,
}

impl Frame {
    fn of(burndown: &Burndown) -> Self {
        let now = burndown.now;
        let first = burndown.points.first().map_or(now, |(at, _)| *at);
        let finish = projected_finish(&burndown.points, now);
        let mut end = now + TimeDelta::days(7);
        for at in burndown
            .deadlines
            .iter()
            .map(|(at, _)| *at)
            .filter(|at| *at > now)
            .chain(finish)
        {
            end = end.max(at.min(now + TimeDelta::days(180)));
        }
        let top = burndown
            .points
            .iter()
            .map(|(_, n)| *n)
            .max()
            .unwrap_or(0)
            .max(1) as f64
            * 1.15;
        Self {
            start: first.min(now - TimeDelta::days(7)),
            end,
            top,
            finish,
        }
    }
}

type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Draws the chart on any plotters backend: the PNG and the SVG are one drawing.
fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    burndown: &Burndown,
) -> Result<(), ChartError> {
    let frame = Frame::of(burndown);
    let tz = burndown.timezone;
    let label = |x: &f64| {
        DateTime::from_timestamp((x * DAY_SECONDS) as i64, 0)
            .map(|t| t.with_timezone(&tz).format("%-d %b").to_string())
            .unwrap_or_default()
    };
    root.fill(&WHITE).map_err(error)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Zoom connections not yet on OAuth 2.0", (FONT, 24))
        .margin(18)
        .x_label_area_size(34)
        .y_label_area_size(52)
        .build_cartesian_2d(days(frame.start)..days(frame.end), 0f64..frame.top)
        .map_err(error)?;
    chart
        .configure_mesh()
        .x_labels(8)
        .y_labels(6)
        .x_label_formatter(&label)
        // Counts are whole: a tick between two (small counts) gets no label of its own.
        .y_label_formatter(&|y| {
            if y.fract() == 0.0 {
                format!("{y:.0}")
            } else {
                String::new()
            }
        })
        .label_style((FONT, 14))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(error)?;
    draw_steps(&mut chart, burndown, &frame)?;
    draw_projection(&mut chart, burndown, &frame)?;
    draw_deadlines(&mut chart, burndown, &frame)?;
    draw_today(&mut chart, burndown.now, &frame)?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .label_font((FONT, 14))
        .draw()
        .map_err(error)?;
    root.present().map_err(error)
}

/// The count holds until it changes: a step line. With one point only (a new install),
/// it is a level line across the chart up to now.
fn draw_steps<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    burndown: &Burndown,
    frame: &Frame,
) -> Result<(), ChartError> {
    let mut steps = Vec::with_capacity(burndown.points.len() * 2 + 1);
    if let [(_, only)] = burndown.points.as_slice() {
        steps.push((days(frame.start), *only as f64));
    }
    for (i, (at, n)) in burndown.points.iter().enumerate() {
        if i > 0 {
            steps.push((days(*at), steps.last().map_or(0.0, |p: &(f64, f64)| p.1)));
        }
        steps.push((days(*at), *n as f64));
    }
    let blue = RGBColor(31, 98, 181);
    chart
        .draw_series(LineSeries::new(steps, blue.stroke_width(3)))
        .map_err(error)?
        .label("still on JWT")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], blue.stroke_width(3)));
    Ok(())
}

fn draw_projection<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    burndown: &Burndown,
    frame: &Frame,
) -> Result<(), ChartError> {
    let (Some(finish), Some((_, left))) = (frame.finish, burndown.points.last()) else {
        return Ok(());
    };
    let green = RGBColor(46, 139, 87);
    chart
        .draw_series(DashedLineSeries::new(
            [
                (days(burndown.now), *left as f64),
                (days(finish.min(frame.end)), 0.0),
            ],
            8,
            6,
            green.stroke_width(2),
        ))
        .map_err(error)?
        .label(format!(
            "projected finish {}",
            finish.with_timezone(&burndown.timezone).format("%-d %b %Y")
        ))
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], green.stroke_width(2)));
    Ok(())
}

fn draw_deadlines<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    burndown: &Burndown,
    frame: &Frame,
) -> Result<(), ChartError> {
    let red = RGBColor(200, 40, 40);
    let (start, end, top) = (days(frame.start), days(frame.end), frame.top);
    let shown = burndown
        .deadlines
        .iter()
        .filter(|(at, _)| *at >= frame.start && *at <= frame.end);
    for (i, (at, title)) in shown.enumerate() {
        let x = days(*at);
        chart
            .draw_series(DashedLineSeries::new(
                [(x, 0.0), (x, top)],
                5,
                4,
                red.stroke_width(1),
            ))
            .map_err(error)?;
        let short: String = title.chars().take(28).collect();
        // Near the right edge a label reads leftwards, so it is not cut off.
        let anchor = if x > start + (end - start) * 0.75 {
            Pos::new(HPos::Right, VPos::Top)
        } else {
            Pos::new(HPos::Left, VPos::Top)
        };
        let style = (FONT, 13).into_font().color(&red).pos(anchor);
        // Staggered, so deadlines close together keep readable labels.
        let y = top * (0.97 - 0.06 * (i % 4) as f64);
        chart
            .draw_series([Text::new(short, (x, y), style)])
            .map_err(error)?;
    }
    Ok(())
}

fn draw_today<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    now: DateTime<Utc>,
    frame: &Frame,
) -> Result<(), ChartError> {
    let grey = RGBColor(90, 90, 90);
    chart
        .draw_series([PathElement::new(
            [(days(now), 0.0), (days(now), frame.top)],
            grey.stroke_width(2),
        )])
        .map_err(error)?;
    chart
        .draw_series([Text::new(
            "today",
            (days(now), frame.top * 0.06),
            (FONT, 13).into_font().color(&grey),
        )])
        .map_err(error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_760_000_000 + day * 86_400, 0).unwrap_or_default()
    }

    #[test]
    fn the_projection_follows_the_last_two_weeks() {
        let points = [(at(0), 100), (at(10), 90), (at(20), 60)];
        // From day 6 (the window opens; 100 left then) to day 20: 40 done in 14 days, so
        // the 60 left take 21 more.
        let finish = projected_finish(&points, at(20)).expect("a finish");
        assert_eq!((finish - at(20)).num_days(), 21);
        assert_eq!(
            projected_finish(&[(at(0), 5), (at(3), 5)], at(3)),
            None,
            "nothing moves"
        );
        assert_eq!(
            projected_finish(&[(at(0), 5), (at(3), 0)], at(3)),
            None,
            "nothing left"
        );
    }

    #[test]
    fn one_point_is_a_level_line_and_no_point_no_line() {
        let mut burndown = Burndown {
            points: vec![(at(0), 12)],
            deadlines: vec![],
            now: at(0),
            timezone: "UTC".parse().expect("zone"),
        };
        let blue = |png: &[u8]| {
            image::load_from_memory(png)
                .expect("a PNG")
                .to_rgb8()
                .pixels()
                .filter(|p| p.0 == [31, 98, 181])
                .count()
        };
        assert!(blue(&render(&burndown).expect("renders")) > 1_000);
        burndown.points.clear();
        assert!(
            blue(&render(&burndown).expect("renders")) < 100,
            "only the legend's sample"
        );
    }

    #[test]
    fn it_renders_a_png_of_the_expected_size_that_is_not_blank() {
        let burndown = Burndown {
            points: vec![(at(-20), 40), (at(-12), 31), (at(-3), 22), (at(0), 18)],
            deadlines: vec![
                (at(-15), "Zoom disables JWT".into()),
                (at(9), "Our cut-off".into()),
            ],
            now: at(0),
            timezone: "Europe/Berlin".parse().expect("zone"),
        };
        let png = render(&burndown).expect("renders");
        let decoded = image::load_from_memory(&png).expect("a PNG").to_rgb8();
        assert_eq!(decoded.dimensions(), (WIDTH, HEIGHT));
        // The grid alone is not enough: the step line's blue must be there.
        let line = decoded.pixels().filter(|p| p.0 == [31, 98, 181]).count();
        assert!(line > 1_000, "the line is drawn: {line} pixels");
    }

    #[test]
    fn the_svg_is_the_same_drawing_with_its_text_escaped() {
        let burndown = Burndown {
            points: vec![(at(-20), 40), (at(0), 18)],
            deadlines: vec![(at(9), "<script>alert(1)</script>".into())],
            now: at(0),
            timezone: "UTC".parse().expect("zone"),
        };
        let svg = render_svg(&burndown).expect("renders");
        assert!(svg.starts_with("<svg"), "{svg:.80}");
        assert!(svg.contains("#1F62B5"), "the step line's blue");
        assert!(svg.contains("Zoom connections not yet on OAuth 2.0"));
        assert!(!svg.contains("<script>"), "a deadline's title is text");
        assert!(svg.contains("&lt;script&gt;"));
    }
}
