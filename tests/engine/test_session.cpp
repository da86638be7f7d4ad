// Session, compiled plans, hooks, backends and model statistics.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <thread>

#include "engine/compiled_plan.hpp"
#include "engine/model.hpp"
#include "engine/session.hpp"
#include "graph/execution_hook.hpp"
#include "tests/graph/graph_builder.hpp"
#include "tests/graph/run_graph.hpp"

namespace octet {
namespace {

using test::error_message;
using test::GraphBuilder;

std::vector<int64_t> ints(std::initializer_list<int64_t> values) { return values; }

// x[1,3,8,8] -> Conv(3->4, 3x3, pad 1) -> Relu -> MaxPool 2x2/2 -> Flatten -> Gemm(5) -> Softmax
Graph small_cnn(uint32_t seed = 5) {
  GraphBuilder b("small_cnn", seed);
  b.input("x", {1, 3, 8, 8});
  b.conv("conv1", "x", "c1", 3, 4, 3, true, {{"pads", ints({1, 1, 1, 1})}});
  b.node("Relu", "relu1", {"c1"}, {"r1"});
  b.node("MaxPool", "pool", {"r1"}, {"p"}, {{"kernel_shape", ints({2, 2})}, {"strides", ints({2, 2})}});
  b.node("Flatten", "flat", {"p"}, {"f"});
  b.random_constant("fc.w", {5, 64});
  b.random_constant("fc.b", {5});
  b.node("Gemm", "fc", {"f", "fc.w", "fc.b"}, {"logits"}, {{"transB", int64_t{1}}});
  b.node("Softmax", "prob", {"logits"}, {"y"});
  b.output("y");
  return b.build();
}

std::vector<Tensor> random_inputs(uint32_t seed, const Shape& shape = {1, 3, 8, 8}) {
  std::mt19937 rng(seed);
  return {test::random_tensor(shape, rng, -2.0f, 2.0f)};
}

// ---------------------------------------------------------------------------------------------
// Running

TEST(SessionRun, ProducesSoftmaxOutputAndIsRepeatable) {
  Model model = Model::from_graph(small_cnn());
  Session session(model);
  const auto inputs = random_inputs(1);
  const auto first = session.run(inputs);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].shape(), (Shape{1, 5}));
  double sum = 0.0;
  for (int64_t i = 0; i < 5; ++i) {
    EXPECT_GT(first[0].data<float>()[i], 0.0f);
    sum += first[0].data<float>()[i];
  }
  EXPECT_NEAR(sum, 1.0, 1e-5);
  // A different input in between must not leak into the next run of the first input.
  session.run(random_inputs(2));
  test::expect_identical(session.run(inputs)[0], first[0], "second run");
  EXPECT_EQ(session.input_info(0).name, "x");
  EXPECT_EQ(session.input_info(0).shape, (Shape{1, 3, 8, 8}));
  EXPECT_EQ(session.output_info(0).name, "y");
  EXPECT_EQ(session.output_info(0).dtype, DType::f32);
  EXPECT_GT(session.arena_bytes(), 0u);
}

TEST(SessionRun, OptimizedAndUnoptimizedAgree) {
  const auto inputs = random_inputs(3);
  Model optimized = Model::from_graph(small_cnn());
  Model plain = Model::from_graph(small_cnn(), false);
  EXPECT_LT(optimized.graph().nodes.size(), plain.graph().nodes.size());  // Relu fused
  test::expect_identical(Session(optimized).run(inputs)[0], Session(plain).run(inputs)[0]);
}

TEST(SessionRun, ZeroCopyVariant) {
  Model model = Model::from_graph(small_cnn());
  Session session(model);
  const auto inputs = random_inputs(4);
  const auto expected = session.run(inputs);
  Tensor out(DType::f32, {1, 5});
  session.run({inputs[0].view()}, {out.view()});
  test::expect_identical(out, expected[0]);
  // A wrongly shaped output buffer is refused, naming the output.
  Tensor wrong(DType::f32, {5});
  const std::string message = error_message([&] { session.run({inputs[0].view()}, {wrong.view()}); });
  OCTET_EXPECT_CONTAINS(message, "'y'");
  OCTET_EXPECT_CONTAINS(message, "[1,5]");
  OCTET_EXPECT_CONTAINS(error_message([&] { session.run({inputs[0].view()}, {}); }), "output");
}

Graph three_outputs() {
  GraphBuilder b("outputs", 6);
  b.input("x", {2, 3});
  b.node("Relu", "relu", {"x"}, {"r"});
  b.constant("one", test::float_tensor({1}, {1.0f}));
  b.node("Add", "add", {"r", "one"}, {"y"});
  b.output("y");
  b.output("r");
  b.output("x");
  return b.build();
}

void check_three_outputs(const std::vector<Tensor>& out, const Tensor& x) {
  ASSERT_EQ(out.size(), 3u);
  test::expect_identical(out[0], test::float_tensor({2, 3}, {1, 3, 1, 5, 1, 1.5f}), "y");
  test::expect_identical(out[1], test::float_tensor({2, 3}, {0, 2, 0, 4, 0, 0.5f}), "r");
  test::expect_identical(out[2], x, "x");
}

TEST(SessionRun, IntermediateValueAndInputAsGraphOutputs) {
  Model model = Model::from_graph(three_outputs());
  Session session(model);
  const Tensor x = test::float_tensor({2, 3}, {-1, 2, -3, 4, 0, 0.5f});
  check_three_outputs(test::run_session(session, {x}), x);  // zero-copy overload
}

// A place in `storage` (at least 2 floats longer than needed) that is not 64-byte aligned.
float* misaligned(std::vector<float>& storage) {
  return storage.data() + (reinterpret_cast<uintptr_t>(storage.data()) % 64 == 0 ? 1 : 0);
}

// Aligned inputs are read in place, others copied: the same results either way, a later run
// reads its own buffer (not the one the previous run pointed the plan at), and an input that is
// also a graph output is returned whole from either kind of buffer.
TEST(SessionRun, ZeroCopyInputsAlignedOrNot) {
  Model model = Model::from_graph(small_cnn());
  Session session(model);
  const auto first = random_inputs(4), second = random_inputs(5);
  const auto expected_first = session.run(first), expected_second = session.run(second);
  const Shape& shape = session.input_info(0).shape;
  const size_t count = static_cast<size_t>(shape_elements(shape));
  std::vector<float> unaligned_storage(count + 16);
  float* unaligned = misaligned(unaligned_storage);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(first[0].raw()) % 64, 0u);  // Tensor storage is aligned
  Tensor out(DType::f32, {1, 5});
  for (int round = 0; round < 2; ++round) {
    session.run({first[0].view()}, {out.view()});  // in place
    test::expect_identical(out, expected_first[0], "aligned");
    std::memcpy(unaligned, second[0].data<float>(), count * sizeof(float));
    session.run({TensorView{unaligned, DType::f32, &shape}}, {out.view()});  // copied
    test::expect_identical(out, expected_second[0], "unaligned");
    session.run({second[0].view()}, {out.view()});
    test::expect_identical(out, expected_second[0], "aligned, after another buffer");
  }
  Model passthrough = Model::from_graph(three_outputs());
  Session pass(passthrough);
  const Tensor x = test::float_tensor({2, 3}, {-1, 2, -3, 4, 0, 0.5f});
  check_three_outputs(test::run_session(pass, {x}), x);
  std::vector<float> shifted(6 + 16);
  float* odd = misaligned(shifted);
  std::memcpy(odd, x.data<float>(), 6 * sizeof(float));
  std::vector<Tensor> outputs;
  for (size_t i = 0; i < 3; ++i) outputs.emplace_back(pass.output_info(i).dtype, pass.output_info(i).shape);
  pass.run({TensorView{odd, DType::f32, &x.shape()}}, {outputs[0].view(), outputs[1].view(), outputs[2].view()});
  check_three_outputs(outputs, x);
}

TEST(SessionRun, MultipleOutputsThroughTensorOverload) {
  // Regression: run(std::vector<Tensor>) once took views of output tensors while still growing
  // the vector holding them, leaving dangling shape pointers as soon as there were two outputs.
  Model model = Model::from_graph(three_outputs());
  Session session(model);
  const Tensor x = test::float_tensor({2, 3}, {-1, 2, -3, 4, 0, 0.5f});
  check_three_outputs(session.run({x}), x);
}

// ---------------------------------------------------------------------------------------------
// Input checking

TEST(SessionInputs, WrongShapeNamesInputAndBothShapes) {
  Model model = Model::from_graph(small_cnn());
  Session session(model);
  const std::string message = error_message([&] { session.run(random_inputs(1, {1, 3, 8, 9})); });
  OCTET_EXPECT_CONTAINS(message, "'x'");
  OCTET_EXPECT_CONTAINS(message, "[1,3,8,8]");
  OCTET_EXPECT_CONTAINS(message, "[1,3,8,9]");
  const std::string rank = error_message([&] { session.run(random_inputs(1, {3, 8, 8})); });
  OCTET_EXPECT_CONTAINS(rank, "[3,8,8]");
}

TEST(SessionInputs, WrongDtypeNamesInputAndBothTypes) {
  Model model = Model::from_graph(small_cnn());
  Session session(model);
  Tensor bytes(DType::u8, {1, 3, 8, 8});
  const std::string message = error_message([&] { session.run({bytes}); });
  OCTET_EXPECT_CONTAINS(message, "'x'");
  OCTET_EXPECT_CONTAINS(message, "f32");
  OCTET_EXPECT_CONTAINS(message, "u8");
  OCTET_EXPECT_CONTAINS(message, "[1,3,8,8]");
}

TEST(SessionInputs, WrongInputCount) {
  Model model = Model::from_graph(small_cnn());
  Session session(model);
  const auto one = random_inputs(1);
  const std::string none = error_message([&] { session.run(std::vector<Tensor>{}); });
  OCTET_EXPECT_CONTAINS(none, "1 input");
  OCTET_EXPECT_CONTAINS(none, "got 0");
  const std::string two = error_message([&] { session.run({one[0], one[0]}); });
  OCTET_EXPECT_CONTAINS(two, "got 2");
}

TEST(SessionInputs, SecondInputIsNamed) {
  GraphBuilder b;
  b.input("a", {2, 3});
  b.input("bias_row", {3});
  b.node("Add", "add", {"a", "bias_row"}, {"y"});
  b.output("y");
  Model model = Model::from_graph(b.build());
  Session session(model);
  std::mt19937 rng(8);
  const Tensor a = test::random_tensor({2, 3}, rng);
  const std::string message = error_message([&] { session.run({a, test::random_tensor({4}, rng)}); });
  OCTET_EXPECT_CONTAINS(message, "'bias_row'");
  OCTET_EXPECT_CONTAINS(message, "[3]");
  OCTET_EXPECT_CONTAINS(message, "[4]");
  // Inputs in the wrong order are caught too (the first one is checked first).
  OCTET_EXPECT_CONTAINS(error_message([&] { session.run({test::random_tensor({3}, rng), a}); }), "'a'");
}

// ---------------------------------------------------------------------------------------------
// Hooks

struct Recorded {
  bool after;
  size_t index;
  std::string name;
  std::string op;
  std::string backend;
  std::vector<Shape> input_shapes, output_shapes;
  std::vector<DType> input_dtypes, output_dtypes;
  bool views_have_data = true;
};

class RecordingHook final : public ExecutionHook {
 public:
  void before(const NodeEvent& event) override { record(event, false); }
  void after(const NodeEvent& event) override {
    record(event, true);
    // Outputs are written by now; check what can be checked from the values themselves.
    if (event.node.op == "Relu") {
      const float* in = event.inputs[0].as<const float>();
      const float* out = event.outputs[0].as<const float>();
      for (int64_t i = 0; i < event.outputs[0].elements(); ++i) {
        relu_negative += out[i] < 0.0f;
        relu_mismatch += out[i] != std::max(in[i], 0.0f);
        relu_positive += out[i] > 0.0f;
      }
    }
    if (event.node.op == "Softmax") {
      double sum = 0.0;
      for (int64_t i = 0; i < event.outputs[0].elements(); ++i) sum += event.outputs[0].as<const float>()[i];
      softmax_sum = sum;
    }
    if (event.node.attrs.has("activation")) {
      for (int64_t i = 0; i < event.outputs[0].elements(); ++i)
        fused_negative += event.outputs[0].as<const float>()[i] < 0.0f;
    }
  }

  std::vector<Recorded> events;
  int64_t relu_negative = 0, relu_mismatch = 0, relu_positive = 0, fused_negative = 0;
  double softmax_sum = -1.0;

 private:
  void record(const NodeEvent& event, bool after_call) {
    Recorded r;
    r.after = after_call;
    r.index = event.node_index;
    r.name = event.node.name;
    r.op = event.node.op;
    r.backend = event.backend ? event.backend : "";
    for (size_t i = 0; i < event.input_count; ++i) {
      r.input_shapes.push_back(event.inputs[i].shape ? *event.inputs[i].shape : Shape{-1});
      r.input_dtypes.push_back(event.inputs[i].dtype);
      r.views_have_data = r.views_have_data && event.inputs[i].data;
    }
    for (size_t i = 0; i < event.output_count; ++i) {
      r.output_shapes.push_back(event.outputs[i].shape ? *event.outputs[i].shape : Shape{-1});
      r.output_dtypes.push_back(event.outputs[i].dtype);
      r.views_have_data = r.views_have_data && event.outputs[i].data;
    }
    events.push_back(std::move(r));
  }
};

TEST(SessionHooks, SeeEveryNodeInOrderWithMatchingViews) {
  Model model = Model::from_graph(small_cnn(), false);  // keep the Relu as its own node
  Session session(model);
  RecordingHook hook;
  session.add_hook(&hook);
  session.run(random_inputs(9));

  const Graph& graph = session.plan().graph();
  const auto& steps = session.plan().steps();
  ASSERT_EQ(graph.nodes.size(), 6u);
  ASSERT_EQ(hook.events.size(), 2 * steps.size());
  const std::vector<std::string> expected_names = {"conv1", "relu1", "pool", "flat", "fc", "prob"};
  for (size_t s = 0; s < steps.size(); ++s) {
    const Node& node = graph.nodes[steps[s].node_index];
    EXPECT_EQ(node.name, expected_names[s]);
    for (int phase = 0; phase < 2; ++phase) {
      const Recorded& r = hook.events[2 * s + static_cast<size_t>(phase)];
      EXPECT_EQ(r.after, phase == 1) << s;
      EXPECT_EQ(r.index, s);
      EXPECT_EQ(r.name, node.name);
      EXPECT_EQ(r.op, node.op);
      EXPECT_EQ(r.backend, "ref");
      EXPECT_TRUE(r.views_have_data) << node.name;
      ASSERT_EQ(r.input_shapes.size(), node.inputs.size()) << node.name;
      ASSERT_EQ(r.output_shapes.size(), node.outputs.size()) << node.name;
      for (size_t i = 0; i < node.inputs.size(); ++i) {
        EXPECT_EQ(r.input_shapes[i], graph.value_info(node.inputs[i]).shape) << node.name << " input " << i;
        EXPECT_EQ(r.input_dtypes[i], graph.value_info(node.inputs[i]).dtype) << node.name << " input " << i;
      }
      for (size_t i = 0; i < node.outputs.size(); ++i) {
        EXPECT_EQ(r.output_shapes[i], graph.value_info(node.outputs[i]).shape) << node.name << " output " << i;
        EXPECT_EQ(r.output_dtypes[i], graph.value_info(node.outputs[i]).dtype) << node.name << " output " << i;
      }
    }
  }
  EXPECT_EQ(hook.events[0].input_shapes[0], (Shape{1, 3, 8, 8}));
  EXPECT_EQ(hook.events[0].input_shapes[1], (Shape{4, 3, 3, 3}));
  EXPECT_EQ(hook.events[0].output_shapes[0], (Shape{1, 4, 8, 8}));
  // Values seen in after(): the Relu's output is its clamped input, and some of it is positive.
  EXPECT_EQ(hook.relu_negative, 0);
  EXPECT_EQ(hook.relu_mismatch, 0);
  EXPECT_GT(hook.relu_positive, 0);
  EXPECT_NEAR(hook.softmax_sum, 1.0, 1e-5);
}

TEST(SessionHooks, FusedActivationOutputSeenClamped) {
  Model model = Model::from_graph(small_cnn());  // Conv carries the Relu
  Session session(model);
  RecordingHook hook;
  session.add_hook(&hook);
  session.run(random_inputs(10));
  ASSERT_EQ(hook.events.size(), 2 * model.graph().nodes.size());
  EXPECT_EQ(hook.events[0].op, "Conv");
  EXPECT_EQ(hook.fused_negative, 0);
}

TEST(SessionHooks, SameResultWithAndWithoutHook) {
  Model model = Model::from_graph(small_cnn(), false);
  Session session(model);
  const auto inputs = random_inputs(11);
  const auto plain = session.run(inputs);
  RecordingHook hook;
  session.add_hook(&hook);
  const auto hooked = session.run(inputs);
  test::expect_identical(hooked[0], plain[0]);
  Session fresh(model);
  test::expect_identical(fresh.run(inputs)[0], plain[0]);
}

TEST(SessionHooks, RemoveHookStopsCallsAndDuplicatesAreIgnored) {
  Model model = Model::from_graph(small_cnn());
  Session session(model);
  RecordingHook hook;
  session.add_hook(&hook);
  session.add_hook(&hook);  // adding twice still calls once
  session.add_hook(nullptr);
  session.run(random_inputs(12));
  const size_t per_run = 2 * model.graph().nodes.size();
  EXPECT_EQ(hook.events.size(), per_run);
  session.remove_hook(&hook);
  session.run(random_inputs(12));
  EXPECT_EQ(hook.events.size(), per_run);
  session.remove_hook(&hook);  // removing an absent hook is harmless
  session.add_hook(&hook);
  session.run(random_inputs(12));
  EXPECT_EQ(hook.events.size(), 2 * per_run);
}

class LoggingHook final : public ExecutionHook {
 public:
  LoggingHook(std::string tag, std::vector<std::string>& log) : tag_(std::move(tag)), log_(log) {}
  void before(const NodeEvent& event) override { log_.push_back(tag_ + ".before." + event.node.name); }
  void after(const NodeEvent& event) override { log_.push_back(tag_ + ".after." + event.node.name); }

 private:
  std::string tag_;
  std::vector<std::string>& log_;
};

TEST(SessionHooks, SeveralHooksRunInInsertionOrder) {
  GraphBuilder b;
  b.input("x", {4});
  b.node("Relu", "r1", {"x"}, {"a"});
  b.node("Relu", "r2", {"a"}, {"y"});
  b.output("y");
  Model model = Model::from_graph(b.build());
  Session session(model);
  std::vector<std::string> log;
  LoggingHook first("A", log), second("B", log);
  session.add_hook(&first);
  session.add_hook(&second);
  session.run({test::float_tensor({4}, {1, -1, 2, -2})});
  EXPECT_EQ(log, (std::vector<std::string>{"A.before.r1", "B.before.r1", "A.after.r1", "B.after.r1",
                                           "A.before.r2", "B.before.r2", "A.after.r2", "B.after.r2"}));
  // Hooks are per session.
  log.clear();
  Session other(model);
  other.run({test::float_tensor({4}, {1, -1, 2, -2})});
  EXPECT_TRUE(log.empty());
}

// ---------------------------------------------------------------------------------------------
// Shared plans and threads

TEST(SessionThreads, TwoSessionsSharingAPlanRunConcurrently) {
  Model model = Model::from_graph(small_cnn(21));
  std::shared_ptr<const CompiledPlan> plan = compile(model);
  Session reference(plan);
  constexpr int kInputs = 6;
  std::vector<std::vector<Tensor>> inputs;
  std::vector<Tensor> expected;
  for (int i = 0; i < kInputs; ++i) {
    inputs.push_back(random_inputs(100 + static_cast<uint32_t>(i)));
    expected.push_back(reference.run(inputs.back())[0]);
  }
  Session first(plan), second(plan);
  EXPECT_EQ(&first.plan(), &second.plan());
  std::atomic<int> mismatches{0}, errors{0}, runs{0};
  auto worker = [&](Session& session, int offset) {
    try {
      for (int iteration = 0; iteration < 40; ++iteration) {
        const int which = (iteration + offset) % kInputs;
        const auto out = session.run(inputs[static_cast<size_t>(which)]);
        if (out.size() != 1 || out[0].bytes() != expected[static_cast<size_t>(which)].bytes() ||
            std::memcmp(out[0].raw(), expected[static_cast<size_t>(which)].raw(), out[0].bytes()) != 0)
          ++mismatches;
        ++runs;
      }
    } catch (...) {
      ++errors;
    }
  };
  std::thread a(worker, std::ref(first), 0), b(worker, std::ref(second), 3);
  a.join();
  b.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_EQ(runs.load(), 80);
}

// ---------------------------------------------------------------------------------------------
// Backends and plans

TEST(EngineBackends, UnknownBackendListsKnownOnes) {
  const auto known = available_backends();
  EXPECT_NE(std::find(known.begin(), known.end(), "ref"), known.end());
  const std::string message = error_message([] { make_backend("nope"); });
  OCTET_EXPECT_CONTAINS(message, "'nope'");
  OCTET_EXPECT_CONTAINS(message, "ref");
  Model model = Model::from_graph(small_cnn());
  SessionOptions options;
  options.backend = "nope";
  OCTET_EXPECT_CONTAINS(error_message([&] { Session session(model, options); }), "ref");
  auto ref = make_backend("ref");
  ASSERT_NE(ref, nullptr);
  EXPECT_STREQ(ref->name(), "ref");
}

TEST(EngineBackends, RefSupportsEverySchemaOpAndRefusesOthers) {
  auto ref = make_ref_backend();
  Graph empty;
  Node node;
  node.name = "n";
  for (const char* op : {"Conv", "Gemm", "MatMul", "Add", "Relu", "Clip", "MaxPool", "AveragePool",
                         "GlobalAveragePool", "Flatten", "Reshape", "Transpose", "BatchNormalization",
                         "Identity", "Dropout", "Softmax"}) {
    node.op = op;
    EXPECT_TRUE(ref->supports(empty, node).ok) << op;
  }
  node.op = "LSTM";
  const Support no = ref->supports(empty, node);
  EXPECT_FALSE(no.ok);
  OCTET_EXPECT_CONTAINS(no.reason, "LSTM");
  OCTET_EXPECT_CONTAINS(error_message([&] { ref->prepare(empty, node); }), "LSTM");
}

TEST(EnginePlan, PartitionSummaryAndSlots) {
  Model model = Model::from_graph(small_cnn());
  auto plan = compile(model);
  const std::string summary = plan->partition_summary();
  OCTET_EXPECT_CONTAINS(summary, "ref");
  OCTET_EXPECT_CONTAINS(summary, "ref: " + std::to_string(model.graph().nodes.size()) + " nodes");
  EXPECT_EQ(plan->steps().size(), model.graph().nodes.size());
  for (const auto& step : plan->steps()) EXPECT_EQ(step.backend, "ref");
  ASSERT_EQ(plan->input_slots().size(), 1u);
  ASSERT_EQ(plan->output_slots().size(), 1u);
  const ValueSlot& input = plan->slots()[static_cast<size_t>(plan->input_slots()[0])];
  EXPECT_EQ(input.name, "x");
  EXPECT_EQ(input.bytes, 3u * 8 * 8 * 4);
  EXPECT_EQ(input.constant, nullptr);
  // Constants are not in the arena; activations are, inside its bounds and aligned.
  size_t activation_bytes = 0;
  for (const auto& slot : plan->slots()) {
    if (slot.constant) {
      EXPECT_TRUE(model.graph().is_initializer(slot.name)) << slot.name;
      continue;
    }
    EXPECT_LE(slot.offset + slot.bytes, plan->arena_bytes()) << slot.name;
    EXPECT_EQ(slot.offset % 64, 0u) << slot.name;
    activation_bytes += (slot.bytes + 63) / 64 * 64;
  }
  EXPECT_LE(plan->arena_bytes(), activation_bytes);
}

TEST(EnginePlan, ChainArenaIsSmallerThanAllActivations) {
  GraphBuilder b;
  b.input("x", {1, 1024});
  std::string previous = "x";
  for (int i = 0; i < 8; ++i) {
    const std::string next = i == 7 ? "y" : "v" + std::to_string(i);
    b.node("Relu", "relu" + std::to_string(i), {previous}, {next});
    previous = next;
  }
  b.output("y");
  Model model = Model::from_graph(b.build());
  Session session(model);
  // 9 values of 4 KiB, but only two alive at any step (the one read, the one written).
  EXPECT_EQ(session.arena_bytes(), 2u * 4096u);
  const Tensor x = test::float_tensor({1, 1024}, std::vector<float>(1024, -1.0f));
  const auto y = session.run({x});
  EXPECT_EQ(y[0].data<float>()[0], 0.0f);
}

// ---------------------------------------------------------------------------------------------
// Model statistics

TEST(EngineModelStats, MacsParametersAndNodes) {
  GraphBuilder b("stats", 31);
  b.input("x", {2, 3, 8, 8});
  b.conv("conv1", "x", "c1", 3, 4, 3, true);                                                 // [2,4,6,6]
  b.conv("conv2", "c1", "c2", 4, 8, 3, false, {{"pads", ints({1, 1, 1, 1})}}, /*group=*/2);  // [2,8,6,6]
  b.node("Flatten", "flat", {"c2"}, {"f"});                                                  // [2,288]
  b.random_constant("fc.w", {10, 288});
  b.random_constant("fc.b", {10});
  b.node("Gemm", "fc", {"f", "fc.w", "fc.b"}, {"logits"}, {{"transB", int64_t{1}}});  // [2,10]
  b.random_constant("head.w", {10, 3});
  b.node("MatMul", "head", {"logits", "head.w"}, {"y"});  // [2,3]
  b.output("y");
  for (bool optimize : {false, true}) {
    Model model = Model::from_graph(b.build(), optimize);
    const ModelStats stats = model.stats();
    EXPECT_EQ(stats.nodes, 5u);
    const int64_t conv1 = 2 * 4 * 6 * 6 * (3 * 3 * 3);
    const int64_t conv2 = 2 * 8 * 6 * 6 * (2 * 3 * 3);
    const int64_t fc = 2 * 10 * 288;
    const int64_t head = 2 * 3 * 10;
    EXPECT_EQ(stats.macs, conv1 + conv2 + fc + head);
    EXPECT_EQ(stats.macs, 23964);
    const int64_t parameters = 4 * 3 * 9 + 4 + 8 * 2 * 9 + 10 * 288 + 10 + 30;
    EXPECT_EQ(stats.parameters, parameters);
    EXPECT_EQ(stats.parameter_bytes, static_cast<size_t>(parameters) * 4);
    const Graph& g = model.graph();
    EXPECT_EQ(node_macs(g, *test::find_node(g, "conv1")), conv1);
    EXPECT_EQ(node_macs(g, *test::find_node(g, "flat")), 0);
  }
}

TEST(EngineModelStats, GemmTransposedAndFoldedBatchNorm) {
  GraphBuilder b("gemm_t", 32);
  b.input("a", {6, 4});  // transA: M = 4, K = 6
  b.random_constant("w", {5, 6});
  b.node("Gemm", "g", {"a", "w"}, {"y"}, {{"transA", int64_t{1}}, {"transB", int64_t{1}}});
  b.output("y");
  Model model = Model::from_graph(b.build());
  EXPECT_EQ(model.stats().macs, 4 * 5 * 6);

  // BN adds no MACs and disappears when folded; the Conv's MACs stay.
  GraphBuilder c("conv_bn", 33);
  c.input("x", {1, 2, 5, 5});
  c.conv("conv", "x", "t", 2, 3, 3, false);  // [1,3,3,3]
  c.batchnorm("bn", "t", "y", 3);
  c.output("y");
  const ModelStats plain = Model::from_graph(c.build(), false).stats();
  const ModelStats folded = Model::from_graph(c.build(), true).stats();
  EXPECT_EQ(plain.macs, 27 * 18);
  EXPECT_EQ(folded.macs, 27 * 18);
  EXPECT_EQ(plain.nodes, 2u);
  EXPECT_EQ(folded.nodes, 1u);
  EXPECT_EQ(plain.parameters, 3 * 2 * 9 + 4 * 3);
  EXPECT_EQ(folded.parameters, 3 * 2 * 9 + 3);  // folded weight and new bias
}

TEST(EngineModel, FromGraphRejectsBrokenGraphs) {
  Graph g = small_cnn();
  g.nodes[2].inputs[0] = "missing";
  const std::string message = error_message([&] { Model::from_graph(g); });
  OCTET_EXPECT_CONTAINS(message, "'missing'");
  OCTET_EXPECT_CONTAINS(message, "'pool'");
  OCTET_EXPECT_CONTAINS(error_message([&] { Model::from_graph(g, false); }), "'missing'");
}

}  // namespace
}  // namespace octet
