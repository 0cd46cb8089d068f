//! What the element measures while it runs: frames out, frames dropped by QoS, processing time.
//! It feeds the once-a-second `ganstyle-stats` element message and the latency the element
//! reports (the running average of its processing time).

use std::time::{Duration, Instant};

/// How often a stats message is posted.
pub const REPORT_EVERY: Duration = Duration::from_secs(1);
/// The reported latency is re-announced (a Latency message) when the measured processing time
/// moves by more than this fraction.
const LATENCY_CHANGE: f64 = 0.25;
/// Weight of the newest frame in the processing-time average.
const EMA_WEIGHT: f64 = 0.2;

/// One stats message's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Frames out per second over the window.
    pub fps: f64,
    /// Mean processing time per frame that ran the network, in ms (0 when none did).
    pub processing_ms: f64,
    /// Of that, the mean time in the network itself, in ms (the rest is the element's own
    /// conversion, scaling and blending). 0 on the GPU frame path, where the two overlap.
    pub network_ms: f64,
    /// Frames dropped by QoS in the window.
    pub dropped: u64,
    /// Frames out since the element started.
    pub total_frames: u64,
    /// Frames dropped since the element started.
    pub total_dropped: u64,
}

/// Counters of one running element.
#[derive(Debug)]
pub struct Stats {
    window_start: Instant,
    frames: u64,
    dropped: u64,
    processed: u64,
    processing: Duration,
    network: Duration,
    network_total: Duration,
    total_frames: u64,
    total_dropped: u64,
    average: Option<f64>,
    announced: Option<f64>,
}

impl Stats {
    /// Start counting at `now`.
    pub fn new(now: Instant) -> Self {
        Self {
            window_start: now,
            frames: 0,
            dropped: 0,
            processed: 0,
            processing: Duration::ZERO,
            network: Duration::ZERO,
            network_total: Duration::ZERO,
            total_frames: 0,
            total_dropped: 0,
            average: None,
            announced: None,
        }
    }

    /// A frame went out.
    pub fn frame_out(&mut self) {
        self.frames += 1;
        self.total_frames += 1;
    }

    /// A frame was dropped (late, by QoS).
    pub fn frame_dropped(&mut self) {
        self.dropped += 1;
        self.total_dropped += 1;
    }

    /// One frame took `took` in the element, `network` of it in the network.
    pub fn processed(&mut self, took: Duration, network: Duration) {
        self.processed += 1;
        self.processing += took;
        self.network += network;
        self.network_total += network;
        let s = took.as_secs_f64();
        self.average = Some(match self.average {
            Some(a) => a + EMA_WEIGHT * (s - a),
            None => s,
        });
    }

    /// Time spent in the network since the element started.
    pub fn network_total(&self) -> Duration {
        self.network_total
    }

    /// The latency to report: the average processing time so far (zero before the first frame).
    pub fn latency(&self) -> Duration {
        Duration::from_secs_f64(self.average.unwrap_or(0.0))
    }

    /// Whether the latency moved enough since it was last announced; marks it announced.
    pub fn latency_changed(&mut self) -> bool {
        let Some(now) = self.average else {
            return false;
        };
        let changed = match self.announced {
            None => true,
            Some(then) => (now - then).abs() > LATENCY_CHANGE * then,
        };
        if changed {
            self.announced = Some(now);
        }
        changed
    }

    /// The window's report once [`REPORT_EVERY`] has passed since the last one (then a new
    /// window starts), else `None`.
    pub fn report(&mut self, now: Instant) -> Option<Report> {
        let elapsed = now.duration_since(self.window_start);
        if elapsed < REPORT_EVERY {
            return None;
        }
        let mean_ms = |total: Duration| match self.processed {
            0 => 0.0,
            n => total.as_secs_f64() * 1e3 / n as f64,
        };
        let report = Report {
            fps: self.frames as f64 / elapsed.as_secs_f64(),
            processing_ms: mean_ms(self.processing),
            network_ms: mean_ms(self.network),
            dropped: self.dropped,
            total_frames: self.total_frames,
            total_dropped: self.total_dropped,
        };
        self.window_start = now;
        self.frames = 0;
        self.dropped = 0;
        self.processed = 0;
        self.processing = Duration::ZERO;
        self.network = Duration::ZERO;
        Some(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_reports_fps_processing_time_and_drops_then_restarts() {
        let t0 = Instant::now();
        let mut stats = Stats::new(t0);
        for _ in 0..10 {
            stats.frame_out();
            stats.processed(Duration::from_millis(20), Duration::from_millis(15));
        }
        stats.frame_dropped();
        stats.frame_dropped();
        assert_eq!(stats.report(t0 + Duration::from_millis(500)), None);
        let r = stats.report(t0 + Duration::from_secs(2)).unwrap();
        assert!((r.fps - 5.0).abs() < 1e-9);
        assert!((r.processing_ms - 20.0).abs() < 1e-6);
        assert!((r.network_ms - 15.0).abs() < 1e-6);
        assert_eq!(stats.network_total(), Duration::from_millis(150));
        assert_eq!((r.dropped, r.total_frames, r.total_dropped), (2, 10, 2));
        stats.frame_out();
        let r = stats.report(t0 + Duration::from_secs(3)).unwrap();
        assert_eq!((r.dropped, r.total_frames, r.total_dropped), (0, 11, 2));
        assert_eq!((r.processing_ms, r.network_ms), (0.0, 0.0));
        assert_eq!(
            stats.network_total(),
            Duration::from_millis(150),
            "a total, not a window"
        );
    }

    #[test]
    fn latency_is_announced_first_and_again_only_on_a_real_change() {
        let mut stats = Stats::new(Instant::now());
        assert_eq!(stats.latency(), Duration::ZERO);
        assert!(!stats.latency_changed(), "nothing measured yet");
        stats.processed(Duration::from_millis(100), Duration::ZERO);
        assert!(stats.latency_changed());
        stats.processed(Duration::from_millis(105), Duration::ZERO);
        assert!(!stats.latency_changed(), "a 1 % move is not announced");
        for _ in 0..20 {
            stats.processed(Duration::from_millis(300), Duration::ZERO);
        }
        assert!(stats.latency_changed());
        assert!(stats.latency() > Duration::from_millis(250));
    }
}
