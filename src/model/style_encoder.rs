//! The style encoder of an arbitrary-style model: a picture in, a style vector out. It is a
//! straight-line program of convolutions (any stride, per-side padding, groups, an optional
//! ReLU6), additions and a global mean, run with burn once per style picture. Magenta's
//! MobileNetV2 style predictor is such a program (`ganstyle import` writes it).

use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor, TensorData};
use image::RgbImage;
use image::imageops::{self, FilterType};
use serde::{Deserialize, Serialize};

/// One step; each produces the next value (value 0 is the input picture).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Step {
    /// A convolution with bias of value `input`.
    Conv {
        /// The value it reads.
        input: usize,
        /// `[cout, cin / groups, k, k]`.
        shape: [usize; 4],
        /// Stride (both axes).
        stride: usize,
        /// Zero padding: top, left, bottom, right.
        pads: [usize; 4],
        /// Convolution groups.
        groups: usize,
        /// Whether `min(max(·, 0), 6)` follows.
        relu6: bool,
    },
    /// The sum of two values of one shape.
    Add {
        /// One value.
        a: usize,
        /// The other.
        b: usize,
    },
    /// The mean over all pixels, per channel (`[1, c, 1, 1]`).
    Mean {
        /// The value it reads.
        input: usize,
    },
}

/// Why an encoder program is not valid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("style encoder step {step}: {reason}")]
pub struct ProgramError {
    /// The step at fault.
    pub step: usize,
    /// Why.
    pub reason: String,
}

/// The program's shape: steps, the square input side and the vector length.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncoderPlan {
    /// The steps.
    pub steps: Vec<Step>,
    /// The picture is scaled to this square side.
    pub input_side: usize,
    /// Length of the style vector (channels of the last value).
    pub vector_len: usize,
}

impl EncoderPlan {
    /// Weight values each convolution needs (weights then bias), in step order.
    pub fn weight_counts(&self) -> Vec<usize> {
        self.steps
            .iter()
            .filter_map(|s| match s {
                Step::Conv { shape, .. } => Some(shape.iter().product::<usize>() + shape[0]),
                _ => None,
            })
            .collect()
    }

    /// Check that every step reads an earlier value of the right channel count, and that the
    /// last value is `[1, vector_len, 1, 1]`.
    pub fn validate(&self) -> Result<(), ProgramError> {
        // Channels and whether the value is 1×1 (after a mean).
        let mut values: Vec<(usize, bool)> = vec![(3, false)];
        let fail = |step, reason: String| Err(ProgramError { step, reason });
        for (i, step) in self.steps.iter().enumerate() {
            let read = |v: usize| values.get(v).copied();
            let next = match *step {
                Step::Conv {
                    input,
                    shape: [cout, cin, k, k2],
                    stride,
                    groups,
                    pads,
                    ..
                } => {
                    let Some((c, pooled)) = read(input) else {
                        return fail(i, format!("reads value {input}, not yet computed"));
                    };
                    if groups == 0 || c % groups != 0 || cin * groups != c || cout % groups != 0 {
                        return fail(
                            i,
                            format!("{c} input channels do not fit {cin}x{groups} groups"),
                        );
                    }
                    if k != k2 || k == 0 || stride == 0 || k > 15 || pads.iter().any(|&p| p >= k) {
                        return fail(
                            i,
                            format!("kernel {k}x{k2}, stride {stride}, pads {pads:?}"),
                        );
                    }
                    (cout, pooled)
                }
                Step::Add { a, b } => match (read(a), read(b)) {
                    (Some(x), Some(y)) if x == y => x,
                    _ => return fail(i, format!("adds values {a} and {b} of different shapes")),
                },
                Step::Mean { input } => match read(input) {
                    Some((c, _)) => (c, true),
                    None => return fail(i, format!("reads value {input}, not yet computed")),
                },
            };
            values.push(next);
        }
        match values.last() {
            Some(&(c, true)) if c == self.vector_len => Ok(()),
            other => fail(
                self.steps.len(),
                format!(
                    "ends with {other:?}, not a {}-number vector",
                    self.vector_len
                ),
            ),
        }
    }
}

/// An encoder with its weights on a device.
#[derive(Debug, Clone)]
pub struct StyleEncoder {
    /// The program.
    pub plan: EncoderPlan,
    /// Weights and bias of each convolution, in step order.
    convs: Vec<(Tensor<4>, Tensor<1>)>,
}

impl StyleEncoder {
    /// Build from a validated plan and its weights, flat in [`EncoderPlan::weight_counts`]
    /// order.
    pub fn new(plan: EncoderPlan, weights: &[f32], device: &Device) -> Result<Self, ProgramError> {
        plan.validate()?;
        let total: usize = plan.weight_counts().iter().sum();
        if weights.len() != total {
            return Err(ProgramError {
                step: 0,
                reason: format!(
                    "{} weight values for the {total} the steps need",
                    weights.len()
                ),
            });
        }
        let mut at = 0;
        let mut convs = Vec::new();
        for step in &plan.steps {
            if let Step::Conv { shape, .. } = step {
                let n: usize = shape.iter().product();
                let w = TensorData::new(weights[at..at + n].to_vec(), *shape);
                let b = TensorData::new(weights[at + n..at + n + shape[0]].to_vec(), [shape[0]]);
                at += n + shape[0];
                convs.push((Tensor::from_data(w, device), Tensor::from_data(b, device)));
            }
        }
        Ok(Self { plan, convs })
    }

    /// The weights, flat, as [`Self::new`] takes them.
    pub fn weights(&self) -> Vec<f32> {
        let mut out = Vec::new();
        for (w, b) in &self.convs {
            out.extend(crate::infer::values(w.clone()));
            out.extend(crate::infer::values(b.clone()));
        }
        out
    }

    /// Run the program on `x`, `[1, 3, side, side]` in [0, 1]: the style vector.
    pub fn forward(&self, x: Tensor<4>) -> Vec<f32> {
        let mut values = vec![x];
        let mut convs = self.convs.iter();
        for step in &self.plan.steps {
            let next = match *step {
                Step::Conv {
                    input,
                    stride,
                    pads: [top, left, bottom, right],
                    groups,
                    relu6,
                    ..
                } => {
                    let (w, b) = convs.next().expect("one weight pair per convolution");
                    let options = ConvOptions::new_with_padding(
                        [stride, stride],
                        [(top, bottom), (left, right)],
                        [1, 1],
                        groups,
                    );
                    let y = conv2d(values[input].clone(), w.clone(), Some(b.clone()), options);
                    if relu6 { y.clamp(0.0, 6.0) } else { y }
                }
                Step::Add { a, b } => values[a].clone() + values[b].clone(),
                Step::Mean { input } => {
                    let [n, c, h, w] = values[input].dims();
                    values[input]
                        .clone()
                        .reshape([n, c, h * w])
                        .mean_dim(2)
                        .reshape([n, c, 1, 1])
                }
            };
            values.push(next);
        }
        crate::infer::values(values.pop().expect("at least the input"))
    }

    /// The style vector of a picture: its centre square, scaled to the input side (Lanczos).
    pub fn encode(&self, picture: &RgbImage, device: &Device) -> Vec<f32> {
        let (w, h) = picture.dimensions();
        let side = w.min(h);
        let square = imageops::crop_imm(picture, (w - side) / 2, (h - side) / 2, side, side);
        let n = self.plan.input_side as u32;
        let scaled = imageops::resize(&square.to_image(), n, n, FilterType::Lanczos3);
        let x = crate::frame::image_to_tensor(&scaled, device); // [1, 3, n, n] in [0, 1]
        self.forward(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> EncoderPlan {
        EncoderPlan {
            steps: vec![
                Step::Conv {
                    input: 0,
                    shape: [4, 3, 3, 3],
                    stride: 2,
                    pads: [0, 0, 1, 1],
                    groups: 1,
                    relu6: true,
                },
                Step::Conv {
                    input: 1,
                    shape: [4, 1, 3, 3],
                    stride: 1,
                    pads: [1, 1, 1, 1],
                    groups: 4,
                    relu6: false,
                },
                Step::Add { a: 1, b: 2 },
                Step::Mean { input: 3 },
                Step::Conv {
                    input: 4,
                    shape: [2, 4, 1, 1],
                    stride: 1,
                    pads: [0; 4],
                    groups: 1,
                    relu6: false,
                },
            ],
            input_side: 8,
            vector_len: 2,
        }
    }

    #[test]
    fn validation_refuses_inconsistent_programs() {
        assert!(plan().validate().is_ok());
        let mut bad = plan();
        bad.steps[2] = Step::Add { a: 0, b: 2 }; // 3 and 4 channels
        assert_eq!(bad.validate().unwrap_err().step, 2);
        let mut bad = plan();
        bad.steps[1] = Step::Mean { input: 9 };
        assert_eq!(bad.validate().unwrap_err().step, 1);
        let mut bad = plan();
        bad.vector_len = 3;
        assert!(bad.validate().is_err());
    }

    #[test]
    fn forward_matches_a_hand_computation() {
        let device = Device::flex();
        let p = plan();
        let counts = p.weight_counts();
        assert_eq!(counts, vec![4 * 27 + 4, 4 * 9 + 4, 8 + 2]);
        let weights: Vec<f32> = (0..counts.iter().sum::<usize>())
            .map(|i| ((i * 37 % 23) as f32 - 11.0) / 20.0)
            .collect();
        let encoder = StyleEncoder::new(p.clone(), &weights, &device).unwrap();
        assert_eq!(encoder.weights(), weights);
        let input: Vec<f32> = (0..3 * 64).map(|i| (i % 17) as f32 / 16.0).collect();
        let x = Tensor::from_data(TensorData::new(input.clone(), [1, 3, 8, 8]), &device);
        let got = encoder.forward(x);

        // By hand, on planar arrays.
        let conv = |src: &[f32],
                    c: usize,
                    h: usize,
                    w: &[f32],
                    shape: [usize; 4],
                    stride: usize,
                    pads: [usize; 4],
                    groups: usize| {
            let [cout, cpg, k, _] = shape;
            let oh = (h + pads[0] + pads[2] - k) / stride + 1;
            let mut out = vec![0.0f32; cout * oh * oh];
            for co in 0..cout {
                let g = co / (cout / groups);
                for oy in 0..oh {
                    for ox in 0..oh {
                        let mut s = w[cout * cpg * k * k + co];
                        for ci in 0..cpg {
                            let cin = g * cpg + ci;
                            for ky in 0..k {
                                for kx in 0..k {
                                    let y = (oy * stride + ky) as isize - pads[0] as isize;
                                    let x = (ox * stride + kx) as isize - pads[1] as isize;
                                    if y >= 0 && x >= 0 && (y as usize) < h && (x as usize) < h {
                                        s += w[((co * cpg + ci) * k + ky) * k + kx]
                                            * src[(cin * h + y as usize) * h + x as usize];
                                    }
                                }
                            }
                        }
                        out[(co * oh + oy) * oh + ox] = s;
                    }
                }
            }
            let _ = c;
            (out, oh)
        };
        let (a, h1) = conv(
            &input,
            3,
            8,
            &weights[..112],
            [4, 3, 3, 3],
            2,
            [0, 0, 1, 1],
            1,
        );
        let a: Vec<f32> = a.iter().map(|v| v.clamp(0.0, 6.0)).collect();
        let (b, _) = conv(&a, 4, h1, &weights[112..152], [4, 1, 3, 3], 1, [1; 4], 4);
        let sum: Vec<f32> = a.iter().zip(&b).map(|(x, y)| x + y).collect();
        let px = h1 * h1;
        let mean: Vec<f32> = (0..4)
            .map(|c| sum[c * px..][..px].iter().sum::<f32>() / px as f32)
            .collect();
        let (want, _) = conv(&mean, 4, 1, &weights[152..], [2, 4, 1, 1], 1, [0; 4], 1);
        assert_eq!(h1, 4);
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-4, "{got:?} vs {want:?}");
        }
    }
}
