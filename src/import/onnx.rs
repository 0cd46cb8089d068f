//! ONNX files, read as far as importing networks needs: the graph's nodes (operator, inputs,
//! outputs, attributes), its initializers as numbers, and its inputs and outputs. Quantized
//! graphs (QuantizeLinear/DequantizeLinear pairs) are seen through: [`Graph::constant`]
//! dequantizes a weight, [`Graph::source`] skips the pairs around an activation.

use std::collections::HashMap;

use super::protobuf::{Value, WireError, fields};

/// Why an ONNX file cannot be imported.
#[derive(Debug, thiserror::Error)]
pub enum OnnxError {
    /// The bytes are not a protobuf message of the expected shape.
    #[error("not an ONNX file ({what}: {source})")]
    Wire {
        /// The message being read.
        what: &'static str,
        /// The wire-format fault.
        source: WireError,
    },
    /// A part the importer needs is absent.
    #[error("{0} not found")]
    Missing(String),
    /// Something present but not what the importer can take.
    #[error("{0}")]
    Unsupported(String),
}

type Result<T> = std::result::Result<T, OnnxError>;

/// One attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum Attribute {
    /// `i`.
    Int(i64),
    /// `f`.
    Float(f32),
    /// `ints`.
    Ints(Vec<i64>),
    /// `floats`.
    Floats(Vec<f32>),
    /// `s`.
    Bytes(Vec<u8>),
    /// A kind the importer does not read (tensor, graph, strings).
    Other,
}

/// One node of the graph.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Operator, e.g. `Conv`.
    pub op: String,
    /// Node name (may be empty).
    pub name: String,
    /// Input value names (empty strings for omitted optional inputs).
    pub inputs: Vec<String>,
    /// Output value names.
    pub outputs: Vec<String>,
    /// Attributes by name.
    pub attributes: HashMap<String, Attribute>,
}

impl Node {
    /// An integer-list attribute, or `default` when absent.
    pub fn ints(&self, name: &str, default: &[i64]) -> Vec<i64> {
        match self.attributes.get(name) {
            Some(Attribute::Ints(v)) => v.clone(),
            Some(Attribute::Int(v)) => vec![*v],
            _ => default.to_vec(),
        }
    }

    /// An integer attribute, or `default` when absent.
    pub fn int(&self, name: &str, default: i64) -> i64 {
        match self.attributes.get(name) {
            Some(Attribute::Int(v)) => *v,
            _ => default,
        }
    }
}

/// A tensor of numbers (any ONNX numeric type, held as f64).
#[derive(Debug, Clone, PartialEq)]
pub struct Constant {
    /// Shape.
    pub dims: Vec<usize>,
    /// Values, row-major.
    pub values: Vec<f64>,
}

impl Constant {
    /// The values as f32.
    pub fn to_f32(&self) -> Vec<f32> {
        self.values.iter().map(|&v| v as f32).collect()
    }
}

/// An ONNX model's graph.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    /// Nodes in file order (ONNX requires topological order).
    pub nodes: Vec<Node>,
    /// Initializers by name.
    pub initializers: HashMap<String, Constant>,
    /// Graph input names that are not initializers.
    pub inputs: Vec<String>,
    /// Graph output names.
    pub outputs: Vec<String>,
    /// The tool that wrote the file.
    pub producer: String,
    /// Which node produces each value.
    producers: HashMap<String, usize>,
}

fn wire(what: &'static str) -> impl Fn(WireError) -> OnnxError {
    move |source| OnnxError::Wire { what, source }
}

fn text(value: Value<'_>, what: &'static str) -> Result<String> {
    let bytes = value.bytes().ok_or(OnnxError::Wire {
        what,
        source: WireError::Truncated(0),
    })?;
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

/// The largest tensor the importer accepts, in elements (a hostile file cannot make it
/// allocate more than this per tensor).
const MAX_ELEMENTS: usize = 1 << 28;

fn parse_tensor(bytes: &[u8]) -> Result<(String, Constant)> {
    let mut dims = Vec::new();
    let mut data_type = 0;
    let mut name = String::new();
    let mut raw: Option<&[u8]> = None;
    let mut floats = Vec::new();
    let mut ints = Vec::new();
    let mut doubles = Vec::new();
    for field in fields(bytes) {
        let (number, value) = field.map_err(wire("tensor"))?;
        match number {
            1 => dims.extend(value.ints().map_err(wire("tensor dims"))?),
            2 => data_type = value.int().unwrap_or(0),
            4 => floats.extend(value.floats().map_err(wire("tensor floats"))?),
            5 | 7 | 11 => ints.extend(value.ints().map_err(wire("tensor ints"))?),
            8 => name = text(value, "tensor name")?,
            9 => raw = value.bytes(),
            10 => {
                if let Some(b) = value.bytes() {
                    doubles.extend(
                        b.chunks_exact(8)
                            .map(|c| f64::from_le_bytes(c.try_into().unwrap())),
                    );
                }
            }
            13 | 14 => {
                return Err(OnnxError::Unsupported(format!(
                    "tensor {name:?} keeps its data in an external file"
                )));
            }
            _ => {}
        }
    }
    let dims = dims
        .iter()
        .map(|&d| usize::try_from(d))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|_| OnnxError::Unsupported(format!("tensor {name:?} has a negative dimension")))?;
    let count = dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .filter(|&n| n <= MAX_ELEMENTS)
        .ok_or_else(|| OnnxError::Unsupported(format!("tensor {name:?} is too large")))?;
    let values: Vec<f64> = if let Some(raw) = raw {
        let size = match data_type {
            1 | 6 => 4,
            2 | 3 | 9 => 1,
            4 | 5 | 10 => 2,
            7 | 11 | 13 => 8,
            other => {
                return Err(OnnxError::Unsupported(format!(
                    "tensor {name:?} has data type {other}"
                )));
            }
        };
        if raw.len() != count * size {
            return Err(OnnxError::Unsupported(format!(
                "tensor {name:?}: {} bytes of data for {count} values",
                raw.len()
            )));
        }
        raw.chunks_exact(size)
            .map(|c| match data_type {
                1 => f32::from_le_bytes(c.try_into().unwrap()) as f64,
                6 => i32::from_le_bytes(c.try_into().unwrap()) as f64,
                2 | 9 => c[0] as f64,
                3 => c[0] as i8 as f64,
                4 => u16::from_le_bytes(c.try_into().unwrap()) as f64,
                5 => i16::from_le_bytes(c.try_into().unwrap()) as f64,
                10 => half_to_f32(u16::from_le_bytes(c.try_into().unwrap())) as f64,
                7 => i64::from_le_bytes(c.try_into().unwrap()) as f64,
                11 => f64::from_le_bytes(c.try_into().unwrap()),
                _ => u64::from_le_bytes(c.try_into().unwrap()) as f64,
            })
            .collect()
    } else if !floats.is_empty() {
        floats.iter().map(|&v| v as f64).collect()
    } else if !doubles.is_empty() {
        doubles
    } else {
        ints.iter()
            .map(|&v| match data_type {
                // int8/uint8/int16/uint16 values travel in int32_data.
                3 => v as i8 as f64,
                2 => v as u8 as f64,
                _ => v as f64,
            })
            .collect()
    };
    if values.len() != count {
        return Err(OnnxError::Unsupported(format!(
            "tensor {name:?}: {} values for shape {dims:?}",
            values.len()
        )));
    }
    Ok((name, Constant { dims, values }))
}

fn half_to_f32(h: u16) -> f32 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exponent = i32::from((h >> 10) & 0x1f);
    let mantissa = f32::from(h & 0x3ff);
    sign * match exponent {
        0 => mantissa * 2f32.powi(-24),
        31 if mantissa == 0.0 => f32::INFINITY,
        31 => f32::NAN,
        e => (1.0 + mantissa / 1024.0) * 2f32.powi(e - 15),
    }
}

fn parse_attribute(bytes: &[u8]) -> Result<(String, Attribute)> {
    let mut name = String::new();
    let mut attr = Attribute::Other;
    let mut ints = Vec::new();
    let mut floats = Vec::new();
    for field in fields(bytes) {
        let (number, value) = field.map_err(wire("attribute"))?;
        match number {
            1 => name = text(value, "attribute name")?,
            2 => attr = Attribute::Float(value.float().unwrap_or(0.0)),
            3 => attr = Attribute::Int(value.int().unwrap_or(0)),
            4 => attr = Attribute::Bytes(value.bytes().unwrap_or_default().to_vec()),
            7 => floats.extend(value.floats().map_err(wire("attribute floats"))?),
            8 => ints.extend(value.ints().map_err(wire("attribute ints"))?),
            _ => {}
        }
    }
    if !ints.is_empty() {
        attr = Attribute::Ints(ints);
    } else if !floats.is_empty() {
        attr = Attribute::Floats(floats);
    }
    Ok((name, attr))
}

fn parse_node(bytes: &[u8]) -> Result<Node> {
    let mut node = Node {
        op: String::new(),
        name: String::new(),
        inputs: Vec::new(),
        outputs: Vec::new(),
        attributes: HashMap::new(),
    };
    for field in fields(bytes) {
        let (number, value) = field.map_err(wire("node"))?;
        match number {
            1 => node.inputs.push(text(value, "node input")?),
            2 => node.outputs.push(text(value, "node output")?),
            3 => node.name = text(value, "node name")?,
            4 => node.op = text(value, "node operator")?,
            5 => {
                let (name, attr) = parse_attribute(value.bytes().unwrap_or_default())?;
                node.attributes.insert(name, attr);
            }
            _ => {}
        }
    }
    Ok(node)
}

fn value_info_name(bytes: &[u8]) -> Result<String> {
    for field in fields(bytes) {
        let (number, value) = field.map_err(wire("value info"))?;
        if number == 1 {
            return text(value, "value name");
        }
    }
    Ok(String::new())
}

impl Graph {
    /// Parse the bytes of an ONNX model file.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let mut graph_bytes = None;
        let mut producer = String::new();
        let mut ir_version = None;
        for field in fields(bytes) {
            let (number, value) = field.map_err(wire("model"))?;
            match number {
                1 => ir_version = value.int(),
                2 => producer = text(value, "producer")?,
                7 => graph_bytes = value.bytes(),
                _ => {}
            }
        }
        let (Some(_), Some(graph_bytes)) = (ir_version, graph_bytes) else {
            return Err(OnnxError::Missing(
                "an ONNX model (no IR version and graph)".into(),
            ));
        };
        let mut graph = Graph {
            producer,
            ..Graph::default()
        };
        let mut declared_inputs = Vec::new();
        for field in fields(graph_bytes) {
            let (number, value) = field.map_err(wire("graph"))?;
            let body = value.bytes().unwrap_or_default();
            match number {
                1 => graph.nodes.push(parse_node(body)?),
                5 => {
                    let (name, constant) = parse_tensor(body)?;
                    graph.initializers.insert(name, constant);
                }
                11 => declared_inputs.push(value_info_name(body)?),
                12 => graph.outputs.push(value_info_name(body)?),
                _ => {}
            }
        }
        graph.inputs = declared_inputs
            .into_iter()
            .filter(|n| !graph.initializers.contains_key(n))
            .collect();
        for (i, node) in graph.nodes.iter().enumerate() {
            for out in &node.outputs {
                graph.producers.insert(out.clone(), i);
            }
        }
        Ok(graph)
    }

    /// The node that produces `value`, if any.
    pub fn producer(&self, value: &str) -> Option<&Node> {
        self.producers.get(value).map(|&i| &self.nodes[i])
    }

    /// The value `name` with activation quantization seen through: while it is produced by a
    /// QuantizeLinear or DequantizeLinear of a non-constant, the value before.
    pub fn source<'a>(&'a self, mut name: &'a str) -> &'a str {
        while let Some(node) = self.producer(name) {
            let quantizer = matches!(node.op.as_str(), "QuantizeLinear" | "DequantizeLinear");
            if !quantizer || self.initializers.contains_key(&node.inputs[0]) {
                break;
            }
            name = &node.inputs[0];
        }
        name
    }

    /// A constant value: an initializer, or the DequantizeLinear of one (dequantized per
    /// tensor or per channel along its `axis`), or a `Constant` node's tensor.
    pub fn constant(&self, name: &str) -> Result<Constant> {
        if let Some(c) = self.initializers.get(name) {
            return Ok(c.clone());
        }
        let node = self
            .producer(name)
            .ok_or_else(|| OnnxError::Missing(format!("constant {name:?}")))?;
        match node.op.as_str() {
            "DequantizeLinear" => {
                let x = self.constant(&node.inputs[0])?;
                let scale = self.constant(&node.inputs[1])?;
                let zero = match node.inputs.get(2).filter(|s| !s.is_empty()) {
                    Some(z) => self.constant(z)?,
                    None => Constant {
                        dims: scale.dims.clone(),
                        values: vec![0.0; scale.values.len()],
                    },
                };
                dequantize(&x, &scale, &zero, node.int("axis", 1), name)
            }
            "Identity" => self.constant(&node.inputs[0]),
            op => Err(OnnxError::Unsupported(format!(
                "{name:?} is computed by {op}, not a constant"
            ))),
        }
    }

    /// The nodes that read `value`.
    pub fn consumers<'a>(&'a self, value: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.nodes
            .iter()
            .filter(move |n| n.inputs.iter().any(|i| i == value))
    }
}

fn dequantize(
    x: &Constant,
    scale: &Constant,
    zero: &Constant,
    axis: i64,
    name: &str,
) -> Result<Constant> {
    if scale.values.len() != zero.values.len() {
        return Err(OnnxError::Unsupported(format!(
            "{name:?}: scale and zero point differ in size"
        )));
    }
    let n = scale.values.len();
    let values = if n == 1 {
        x.values
            .iter()
            .map(|&v| (v - zero.values[0]) * scale.values[0])
            .collect()
    } else {
        let rank = x.dims.len() as i64;
        let axis = if axis < 0 { axis + rank } else { axis };
        let Some(&len) = usize::try_from(axis).ok().and_then(|a| x.dims.get(a)) else {
            return Err(OnnxError::Unsupported(format!(
                "{name:?}: quantization axis {axis} outside a rank-{rank} tensor"
            )));
        };
        if len != n {
            return Err(OnnxError::Unsupported(format!(
                "{name:?}: {n} scales for {len} channels"
            )));
        }
        let inner: usize = x.dims[axis as usize + 1..].iter().product();
        x.values
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let c = (i / inner) % n;
                (v - zero.values[c]) * scale.values[c]
            })
            .collect()
    };
    Ok(Constant {
        dims: x.dims.clone(),
        values,
    })
}

/// Builders for small ONNX files, for tests.
#[cfg(test)]
pub mod build {
    use super::super::protobuf::Writer;

    /// A float tensor with `raw_data`.
    pub fn tensor(name: &str, dims: &[i64], values: &[f32]) -> Writer {
        let raw: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        Writer::default()
            .packed_ints(1, dims)
            .int(2, 1)
            .string(8, name)
            .bytes(9, &raw)
    }

    /// An int8 tensor with `raw_data`.
    pub fn tensor_i8(name: &str, dims: &[i64], values: &[i8]) -> Writer {
        let raw: Vec<u8> = values.iter().map(|&v| v as u8).collect();
        Writer::default()
            .packed_ints(1, dims)
            .int(2, 3)
            .string(8, name)
            .bytes(9, &raw)
    }

    /// A node; `ints` are integer attributes (one value: an INT, more: INTS).
    pub fn node(op: &str, inputs: &[&str], outputs: &[&str], ints: &[(&str, &[i64])]) -> Writer {
        let mut n = Writer::default();
        for i in inputs {
            n = n.string(1, i);
        }
        for o in outputs {
            n = n.string(2, o);
        }
        n = n.string(3, &format!("{op}_{}", outputs[0])).string(4, op);
        for (name, values) in ints {
            let attr = match values {
                [one] => Writer::default().string(1, name).int(3, *one).int(20, 2),
                _ => Writer::default()
                    .string(1, name)
                    .packed_ints(8, values)
                    .int(20, 7),
            };
            n = n.message(5, attr);
        }
        n
    }

    /// A model of `nodes` and `initializers` with the given graph inputs and outputs.
    pub fn model(
        nodes: Vec<Writer>,
        initializers: Vec<Writer>,
        inputs: &[&str],
        outputs: &[&str],
    ) -> Vec<u8> {
        let mut g = Writer::default();
        for n in nodes {
            g = g.message(1, n);
        }
        g = g.string(2, "test");
        for t in initializers {
            g = g.message(5, t);
        }
        for i in inputs {
            g = g.message(11, Writer::default().string(1, i));
        }
        for o in outputs {
            g = g.message(12, Writer::default().string(1, o));
        }
        Writer::default()
            .int(1, 8)
            .string(2, "ganstyle-test")
            .message(7, g)
            .bytes
    }
}

#[cfg(test)]
mod tests {
    use super::build::*;
    use super::*;

    #[test]
    fn reads_nodes_initializers_and_per_channel_dequantization() {
        let bytes = model(
            vec![
                node(
                    "DequantizeLinear",
                    &["wq", "ws", "wz"],
                    &["w"],
                    &[("axis", &[0])],
                ),
                node("QuantizeLinear", &["x", "s", "z"], &["xq"], &[]),
                node("DequantizeLinear", &["xq", "s", "z"], &["xd"], &[]),
                node(
                    "Conv",
                    &["xd", "w"],
                    &["y"],
                    &[("strides", &[2, 2]), ("pads", &[0, 0, 1, 1])],
                ),
            ],
            vec![
                tensor_i8("wq", &[2, 1, 1, 2], &[1, -2, 3, 127]),
                tensor("ws", &[2], &[0.5, 0.25]),
                tensor_i8("wz", &[2], &[0, 1]),
                tensor("s", &[], &[0.1]),
                tensor_i8("z", &[], &[0]),
            ],
            &["x"],
            &["y"],
        );
        let g = Graph::parse(&bytes).unwrap();
        assert_eq!(g.inputs, vec!["x"]);
        assert_eq!(g.outputs, vec!["y"]);
        let conv = g.nodes.iter().find(|n| n.op == "Conv").unwrap();
        assert_eq!(conv.ints("strides", &[1, 1]), vec![2, 2]);
        assert_eq!(conv.ints("dilations", &[1, 1]), vec![1, 1]);
        // The activation's quantize/dequantize pair is seen through.
        assert_eq!(g.source(&conv.inputs[0]), "x");
        let w = g.constant(&conv.inputs[1]).unwrap();
        assert_eq!(w.dims, vec![2, 1, 1, 2]);
        assert_eq!(w.values, vec![0.5, -1.0, 0.5, 31.5]);
        assert!(g.constant("x").is_err());
    }

    #[test]
    fn refuses_foreign_truncated_and_inconsistent_files() {
        assert!(Graph::parse(b"\x89PNG\r\n\x1a\n not onnx").is_err());
        assert!(matches!(
            Graph::parse(&[]).unwrap_err(),
            OnnxError::Missing(_)
        ));
        let good = model(
            vec![node("Relu", &["x"], &["y"], &[])],
            vec![tensor("w", &[3], &[1.0, 2.0, 3.0])],
            &["x"],
            &["y"],
        );
        assert!(Graph::parse(&good).is_ok());
        for cut in [good.len() / 3, good.len() / 2, good.len() - 1] {
            assert!(Graph::parse(&good[..cut]).is_err(), "cut at {cut}");
        }
        // Data that does not fill the declared shape.
        let short = model(vec![], vec![tensor("w", &[4], &[1.0, 2.0])], &[], &[]);
        let err = Graph::parse(&short).unwrap_err().to_string();
        assert!(err.contains("\"w\""), "{err}");
        // A shape too large to allocate.
        let huge = model(
            vec![],
            vec![tensor("w", &[1 << 20, 1 << 20], &[])],
            &[],
            &[],
        );
        assert!(
            Graph::parse(&huge)
                .unwrap_err()
                .to_string()
                .contains("too large")
        );
    }
}
