//! Which style of a model to apply: one by name or index, or a blend, as the user gives it
//! (`--style`, `--style-mix`, the element's `style` and `style-mix`), checked against the
//! model's style names.

use crate::error::{Error, Result, printable};

/// Which style (or blend of styles) to apply.
#[derive(Debug, Clone, PartialEq)]
pub enum StyleChoice {
    /// The model's first style.
    Default,
    /// A style by name or index (as typed by the user).
    One(String),
    /// A weight per style, in model order (normalized to sum 1).
    Mix(Vec<f32>),
}

impl StyleChoice {
    /// From the `--style` and `--style-mix` options.
    pub fn from_options(style: Option<&str>, mix: Option<&str>) -> Result<Self> {
        match (style, mix) {
            (Some(_), Some(_)) => Err(Error::Setting(
                "a style and a style mix were both given; give one of them".into(),
            )),
            (Some(s), None) => Ok(StyleChoice::One(s.to_string())),
            (None, Some(m)) => {
                let weights = m
                    .split(',')
                    .map(|w| w.trim().parse::<f32>())
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|_| {
                        Error::BadStyleMix(format!(
                            "{m:?} is not a comma-separated list of numbers"
                        ))
                    })?;
                Ok(StyleChoice::Mix(weights))
            }
            (None, None) => Ok(StyleChoice::Default),
        }
    }

    /// The normalized weight vector for a model with these style names.
    pub fn weights(&self, names: &[String]) -> Result<Vec<f32>> {
        let n = names.len();
        let one_hot = |i: usize| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect();
        match self {
            StyleChoice::Default => Ok(one_hot(0)),
            StyleChoice::One(s) => {
                let index = names
                    .iter()
                    .position(|name| name == s)
                    .or_else(|| s.parse::<usize>().ok().filter(|&i| i < n));
                index.map(one_hot).ok_or_else(|| Error::UnknownStyle {
                    asked: s.clone(),
                    available: list(names),
                })
            }
            StyleChoice::Mix(w) => {
                if w.len() != n {
                    return Err(Error::BadStyleMix(format!(
                        "has {} weights, the model has {n} styles ({})",
                        w.len(),
                        list(names)
                    )));
                }
                if w.iter().any(|x| !x.is_finite() || *x < 0.0) {
                    return Err(Error::BadStyleMix("weights must be finite and ≥ 0".into()));
                }
                let sum: f32 = w.iter().sum();
                if sum <= 0.0 {
                    return Err(Error::BadStyleMix("weights sum to 0".into()));
                }
                Ok(w.iter().map(|x| x / sum).collect())
            }
        }
    }
}

/// The style names for a message (they come from the file: escaped and cut).
fn list(names: &[String]) -> String {
    names
        .iter()
        .enumerate()
        .map(|(i, n)| format!("{i}={}", printable(n)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn style_choices_are_validated_against_the_model() {
        let names: Vec<String> = vec!["ink".into(), "glass".into()];
        assert_eq!(
            StyleChoice::One("glass".into()).weights(&names).unwrap(),
            vec![0.0, 1.0]
        );
        assert_eq!(
            StyleChoice::One("0".into()).weights(&names).unwrap(),
            vec![1.0, 0.0]
        );
        assert_eq!(
            StyleChoice::from_options(None, Some("1,3"))
                .unwrap()
                .weights(&names)
                .unwrap(),
            vec![0.25, 0.75]
        );
        assert!(
            StyleChoice::One("oil".into())
                .weights(&names)
                .unwrap_err()
                .to_string()
                .contains("0=ink, 1=glass")
        );
        assert!(StyleChoice::Mix(vec![1.0]).weights(&names).is_err());
        assert!(StyleChoice::from_options(None, Some("a,b")).is_err());
        assert!(StyleChoice::Mix(vec![0.0, 0.0]).weights(&names).is_err());
    }
}
