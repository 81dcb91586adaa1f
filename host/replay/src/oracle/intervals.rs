//! Half-open intervals of UTC seconds, `[start, end)`, and the set operations the oracle
//! needs. A "set" is a sorted list of disjoint, non-adjacent, non-empty spans.

/// `[start, end)` in UTC seconds.
pub type Span = (i64, i64);

/// Sorts `spans`, drops empty ones and merges those that overlap or touch, making a set.
pub fn normalize(mut spans: Vec<Span>) -> Vec<Span> {
    spans.retain(|&(a, b)| a < b);
    spans.sort_unstable();
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for (a, b) in spans {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// `a − b` for two sets, in one merge pass.
pub fn subtract(a: &[Span], b: &[Span]) -> Vec<Span> {
    let mut out = Vec::new();
    let mut j = 0;
    for &(start, end) in a {
        let mut cur = start;
        while j < b.len() && b[j].1 <= cur {
            j += 1;
        }
        let mut k = j;
        while cur < end {
            match b.get(k) {
                Some(&(bs, be)) if bs < end => {
                    if bs > cur {
                        out.push((cur, bs));
                    }
                    cur = cur.max(be);
                    k += 1;
                }
                _ => {
                    out.push((cur, end));
                    cur = end;
                }
            }
        }
    }
    out
}

/// `span ∩ [lo, hi)`, if not empty.
pub fn clip(span: Span, lo: i64, hi: i64) -> Option<Span> {
    let s = (span.0.max(lo), span.1.min(hi));
    (s.0 < s.1).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_merges_overlapping_and_touching() {
        assert_eq!(
            normalize(vec![(5, 7), (1, 3), (3, 4), (6, 9), (10, 10)]),
            vec![(1, 4), (5, 9)]
        );
    }

    #[test]
    fn subtract_cuts_holes_and_edges() {
        let a = normalize(vec![(0, 10), (20, 30)]);
        let b = normalize(vec![(-5, 2), (4, 6), (9, 21), (25, 26), (29, 40)]);
        assert_eq!(subtract(&a, &b), vec![(2, 4), (6, 9), (21, 25), (26, 29)]);
        assert_eq!(subtract(&a, &[]), a);
        assert!(subtract(&a, &[(-100, 100)]).is_empty());
    }

    #[test]
    fn clip_keeps_only_the_overlap() {
        assert_eq!(clip((0, 10), 5, 20), Some((5, 10)));
        assert_eq!(clip((0, 10), 10, 20), None);
    }
}
