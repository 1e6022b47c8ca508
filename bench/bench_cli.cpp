#include "bench/bench_cli.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "tensor/dispatch.h"
#include "tensor/tensor.h"

namespace facet::bench {

Options CliOptions::resolve() const {
  Options o = options;
  o.threads = parse_int_list(threads, "--threads");
  o.sizes = parse_int_list(sizes, "--sizes");
  for (int s : o.sizes)
    if (s < 64 || s % 64 != 0)
      throw std::invalid_argument("--sizes: " + std::to_string(s) + " does not fit BaseCNN's 6 poolings (use 64, 128, ...)");
  o.sections.clear();
  std::stringstream ss(sections);
  std::string item;
  const std::vector<std::string> known{"peak", "sgemm", "kernels", "model"};
  while (std::getline(ss, item, ',')) {
    if (std::find(known.begin(), known.end(), item) == known.end())
      throw std::invalid_argument("--sections: '" + item + "' is not one of peak,sgemm,kernels,model");
    o.sections.push_back(item);
  }
  // On a GPU, or on the naive CPU kernels, only the model rows mean something: the other sections time the fast
  // CPU kernels directly.
  parse_device(o.device);            // names the choices when the device is misspelt
  const bool naive = parse_cpu_backend(o.backend) == CpuBackend::naive;
  if (naive && o.device != "cpu")
    throw std::invalid_argument("--backend naive --device " + o.device + ": the naive backend is CPU code (use --device cpu)");
  if (o.device == "cuda" || naive) {
    const std::string flag = naive ? "--backend naive" : "--device cuda";
    if (sections == CliOptions{}.sections) {
      o.sections = {"model"};
    } else {
      for (const auto& s : o.sections)
        if (s != "model")
          throw std::invalid_argument(flag + " --sections " + sections + ": '" + s +
                                      "' times the fast CPU kernels directly; with " + flag +
                                      " only the model section runs (use --sections model" +
                                      (naive ? ")" : ", and bench/cuda_bench for the CUDA kernels against cuDNN/cuBLAS)"));
    }
  }
  o.compare_openblas = !no_openblas;
  if (o.repeats < 1) throw std::invalid_argument("--repeats must be >= 1");
  return o;
}

std::shared_ptr<CliOptions> add_cli_options(CLI::App& cmd) {
  auto c = std::make_shared<CliOptions>();
  cmd.add_option("--threads", c->threads, "comma-separated thread counts, each section runs at each (e.g. 1,2)")
      ->capture_default_str();
  cmd.add_option("--sections", c->sections, "which of peak,sgemm,kernels,model to run")->capture_default_str();
  cmd.add_option("--sizes", c->sizes, "BaseCNN input sides for the conv shapes and model rows")->capture_default_str();
  cmd.add_option("--batch", c->options.batch, "batch size of the conv, kernel and model rows")->capture_default_str();
  cmd.add_option("--repeats", c->options.repeats, "timed samples per row (the median is reported)")
      ->capture_default_str();
  cmd.add_option("--filter", c->options.filter, "only rows whose name contains this text (e.g. conv3@64)");
  cmd.add_option("--json", c->options.json_path, "where to write the JSON results ('' for none)")
      ->capture_default_str();
  cmd.add_flag("--no-openblas", c->no_openblas,
               "do not load OpenBLAS for the sgemm and conv (openblas-im2col) comparisons");
  cmd.add_option("--device", c->options.device, "cpu or cuda: where the model rows (training step, inference "
                                                "images/s) run; cuda runs only the model section")
      ->capture_default_str();
  cmd.add_option("--backend", c->options.backend, "fast or naive: the CPU kernels of the model rows (naive: the "
                                                  "plain loops of kernels/naive; runs only the model section)")
      ->capture_default_str();
  return c;
}

}  // namespace facet::bench
