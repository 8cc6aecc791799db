//! The download's progress on stderr: one redrawn line on a terminal (bytes, total, percent, rate, at most ten
//! redraws a second), a plain line every tenth of the way otherwise (logs, CI).

use std::io::Write;
use std::time::{Duration, Instant};

/// Draws progress for one transfer.
#[derive(Debug)]
pub(crate) struct Progress<W: Write> {
    out: W,
    tty: bool,
    total: Option<u64>,
    done: u64,
    started: Instant,
    last_draw: Option<Instant>,
    /// The next tenth (or, without a total, the next 10 MB) a plain line is due at.
    next_mark: u64,
}

const MB: f64 = 1_000_000.0;
const REDRAW: Duration = Duration::from_millis(100);

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / MB)
}

impl<W: Write> Progress<W> {
    /// Starts drawing; `tty` chooses the redrawn line over plain lines.
    pub(crate) fn new(mut out: W, tty: bool, what: &str, total: Option<u64>) -> Self {
        let size = total.map_or_else(String::new, |t| format!(" ({})", mb(t)));
        let _ = writeln!(out, "downloading {what}{size}");
        Progress {
            out,
            tty,
            total,
            done: 0,
            started: Instant::now(),
            last_draw: None,
            next_mark: 1,
        }
    }

    fn rate(&self) -> String {
        let secs = self.started.elapsed().as_secs_f64();
        if secs < 0.05 {
            return "-- MB/s".to_string();
        }
        format!("{:.1} MB/s", self.done as f64 / MB / secs)
    }

    /// Records `n` more bytes.
    pub(crate) fn advance(&mut self, n: u64) {
        self.done += n;
        if self.tty {
            let now = Instant::now();
            if self
                .last_draw
                .is_none_or(|t| now.duration_since(t) >= REDRAW)
            {
                self.last_draw = Some(now);
                self.draw_line();
            }
            return;
        }
        match self.total {
            Some(total) if total > 0 => {
                let tenths = self.done.saturating_mul(10) / total;
                if tenths >= self.next_mark && self.done < total {
                    self.next_mark = tenths + 1;
                    let _ = writeln!(
                        self.out,
                        "  {:>3}%  {} of {}  {}",
                        tenths * 10,
                        mb(self.done),
                        mb(total),
                        self.rate()
                    );
                }
            }
            _ => {
                if self.done >= self.next_mark * 10_000_000 {
                    self.next_mark = self.done / 10_000_000 + 1;
                    let _ = writeln!(self.out, "  {}  {}", mb(self.done), self.rate());
                }
            }
        }
    }

    fn draw_line(&mut self) {
        let line = match self.total {
            Some(total) if total > 0 => format!(
                "  {} / {}  {:>3}%  {}",
                mb(self.done),
                mb(total),
                self.done.saturating_mul(100) / total,
                self.rate()
            ),
            _ => format!("  {}  {}", mb(self.done), self.rate()),
        };
        let _ = write!(self.out, "\r{line}\x1b[K");
        let _ = self.out.flush();
    }

    /// Ends the display with a summary line.
    pub(crate) fn finish(mut self) {
        if self.tty {
            self.draw_line();
            let _ = writeln!(self.out);
        }
        let secs = self.started.elapsed().as_secs_f64();
        let rate = self.rate();
        let _ = writeln!(
            self.out,
            "downloaded {} in {secs:.1} s ({rate})",
            mb(self.done)
        );
        let _ = self.out.flush();
    }

    /// The writer back (tests read what was drawn).
    #[cfg(test)]
    pub(crate) fn into_inner(self) -> W {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_every_tenth() {
        let mut p = Progress::new(Vec::new(), false, "w.whl", Some(1000));
        for _ in 0..100 {
            p.advance(10);
        }
        let text = String::from_utf8(p.into_inner()).expect("utf-8");
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines[0], "downloading w.whl (0.0 MB)");
        assert_eq!(lines.len(), 10, "{text}");
        assert!(lines[1].starts_with("   10%  0.0 MB of 0.0 MB"), "{text}");
        assert!(lines[9].starts_with("   90%"), "{text}");
    }

    #[test]
    fn big_steps_print_one_line_each() {
        let mut p = Progress::new(Vec::new(), false, "w", Some(100));
        p.advance(55);
        p.advance(45);
        let text = String::from_utf8(p.into_inner()).expect("utf-8");
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.contains("  50%"), "{text}");
    }

    #[test]
    fn terminal_redraws_one_line() {
        let mut p = Progress::new(Vec::new(), true, "w", Some(2_000_000));
        p.advance(1_000_000);
        let text = String::from_utf8(p.into_inner()).expect("utf-8");
        assert!(text.contains("\r  1.0 MB / 2.0 MB   50%"), "{text:?}");
        assert!(text.ends_with("\x1b[K"), "{text:?}");
    }

    #[test]
    fn unknown_total_every_10_mb() {
        let mut p = Progress::new(Vec::new(), false, "w", None);
        for _ in 0..25 {
            p.advance(1_000_000);
        }
        let text = String::from_utf8(p.into_inner()).expect("utf-8");
        assert_eq!(text.lines().count(), 3, "{text}");
    }
}
