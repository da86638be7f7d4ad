#include "tools/octet/data_options.hpp"

#include "engine/data/dataset_spec.hpp"

namespace octet::cli {

void add_data_options(CLI::App& app, DataOptions& o, const std::string& flag, bool with_limit) {
  app.add_option(flag, o.spec, "fashion-mnist:test|fashion-mnist:train|mnist:test|mnist:train|x.npy|fashion-mnist-noisy:test|train[:sigma=S][:seed=N]")->required();
  app.add_option("--labels", o.labels, "Labels .npy (with a .npy data file)");
  if (with_limit) app.add_option("--limit", o.limit, "Use the first N samples only");
  app.add_option("--mean", o.mean, "Normalize inputs: mean, one value or one per channel");
  app.add_option("--std", o.std, "Normalize inputs: std, one value or one per channel");
}

data::Dataset load_data(const DataOptions& o) {
  data::Dataset dataset = data::load_dataset(o.spec, o.labels, o.targets);
  if (!o.mean.empty() || !o.std.empty())
    dataset.set_normalization(data::parse_float_list(o.mean.empty() ? "0" : o.mean),
                              data::parse_float_list(o.std.empty() ? "1" : o.std));
  if (o.limit) dataset.limit(o.limit);
  return dataset;
}

}  // namespace octet::cli
