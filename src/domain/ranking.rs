//! The emulation movement's rankings (plan IV.2.2): plain formulas over published figures, printed
//! on the page so that anyone can recompute them by hand.

/// Weight of the share against target in a commune's score.
pub const WEIGHT_ACHIEVEMENT: f64 = 70.0;
/// Weight of the improvement during the quarter.
pub const WEIGHT_IMPROVEMENT: f64 = 30.0;
/// A rise of this many percentage points in a quarter counts fully.
pub const FULL_RISE_POINTS: f64 = 10.0;

/// One indicator of one unit: the share now, the share a quarter before, the target (0..1).
#[derive(Debug, Clone, Copy)]
pub struct Input {
    pub value: Option<f64>,
    pub previous: Option<f64>,
    pub target: f64,
}

/// A commune's score parts: A (0..1), C (0..1), the indicators counted, the score (0..100).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    pub achievement: f64,
    pub improvement: f64,
    pub counted: usize,
    pub score: f64,
}

/// A = mean over indicators with people counted of min(share / target, 1) (1 when the target is 0);
/// C = mean over the same indicators of min(max(rise in points, 0), 10) / 10, a missing earlier
/// share counting as no rise; score = 70 × A + 30 × C.
pub fn commune_score(inputs: &[Input]) -> Score {
    let counted: Vec<&Input> = inputs.iter().filter(|i| i.value.is_some()).collect();
    if counted.is_empty() {
        return Score { achievement: 0.0, improvement: 0.0, counted: 0, score: 0.0 };
    }
    let n = counted.len() as f64;
    let achievement = counted
        .iter()
        .map(|i| if i.target <= 0.0 { 1.0 } else { (i.value.unwrap_or(0.0) / i.target).min(1.0) })
        .sum::<f64>()
        / n;
    let improvement = counted
        .iter()
        .map(|i| match (i.value, i.previous) {
            (Some(v), Some(p)) => ((v - p) * 100.0).clamp(0.0, FULL_RISE_POINTS) / FULL_RISE_POINTS,
            _ => 0.0,
        })
        .sum::<f64>()
        / n;
    Score {
        achievement,
        improvement,
        counted: counted.len(),
        score: WEIGHT_ACHIEVEMENT * achievement + WEIGHT_IMPROVEMENT * improvement,
    }
}

/// An agency's score: the mean progress (0..100) of its parts of tasks, a lead part weighing 2 and
/// a cooperating part 1, a part without an update this quarter counting 0.
pub fn agency_score(parts: &[(bool, Option<i64>)]) -> f64 {
    let (sum, weights) = parts.iter().fold((0.0, 0.0), |(s, w), (leads, progress)| {
        let weight = if *leads { 2.0 } else { 1.0 };
        (s + weight * progress.unwrap_or(0) as f64, w + weight)
    });
    if weights == 0.0 { 0.0 } else { sum / weights }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_by_hand() {
        let s = commune_score(&[
            Input { value: Some(0.4), previous: Some(0.35), target: 0.8 },
            Input { value: Some(1.0), previous: None, target: 1.0 },
            Input { value: None, previous: None, target: 1.0 },
        ]);
        // A = (0.5 + 1) / 2 = 0.75; C = (0.5 + 0) / 2 = 0.25; 70 × 0.75 + 30 × 0.25 = 60.
        assert_eq!(s.counted, 2);
        assert!((s.score - 60.0).abs() < 1e-9, "{s:?}");
        assert!((agency_score(&[(true, Some(50)), (false, Some(80)), (false, None)]) - 45.0).abs() < 1e-9);
    }
}
