// `facet export` (a checkpoint as safetensors or ONNX) and `facet import` (safetensors weights, e.g. trained in
// PyTorch, as a facet checkpoint). The formats, names and metadata: docs/export.md.
#include "apps/cmd_export.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "apps/cli_checks.h"
#include "data/image_io.h"
#include "data/transforms.h"
#include "models/export.h"
#include "models/training/trainer.h"
#include "models/training/trainer_data.h"
#include "tensor/checkpoint.h"
#include "tensor/ops.h"
#include "tensor/rng.h"

namespace fs = std::filesystem;
using namespace facet;

namespace {

struct ExportArgs {
  std::string checkpoint, format, out, check_images;
  int check = 0;
  uint64_t seed = 1;
};

struct ImportArgs {
  std::string from, model, config, out;
};

// A seeded "face": per channel a smooth wave plus a bright disc and noise, at the transform's prepared size, so
// every layer sees structure (edges, a blob) rather than flat noise. Values 0..255.
data::Image generated_face(int w, int h, int c, Rng& rng) {
  data::Image img(w, h, c);
  const float fx = 0.05f + 0.3f * rng.uniform(), fy = 0.05f + 0.3f * rng.uniform();
  const float cx = w * rng.uniform(), cy = h * rng.uniform(), r = 0.15f * w + 0.3f * w * rng.uniform();
  for (int ch = 0; ch < c; ++ch) {
    const float phase = 6.283f * rng.uniform();
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        float v = 120 + 70 * std::sin(fx * x + fy * y + phase) + 30 * (rng.uniform() - 0.5f);
        if ((x - cx) * (x - cx) + (y - cy) * (y - cy) < r * r) v += 60;
        img.at(y, x, ch) = uint8_t(std::clamp(v, 0.0f, 255.0f));
      }
  }
  return img;
}

// `<out>.check.safetensors`: "image" (n, C, H, W), the exported graph's input (after resize, crop and scale, before
// normalization) for n generated faces, and one tensor per head with facet's outputs on them (softmax
// probabilities, raw values for a regression head). Another runtime given "image" must reproduce them.
// With `images` (files), those faces instead, decoded and prepared as `facet eval` does; their names go into
// the metadata ("files", one per line).
void write_check(LoadedModel& m, int n, uint64_t seed, const std::vector<std::string>& images, const std::string& path) {
  data::TransformConfig raw = m.transform;
  raw.norm = {};
  if (!images.empty()) n = int(images.size());
  const Shape in = m.model->input_shape(n);  // (n, C, H, W)
  const int64_t per = in[1] * in[2] * in[3];
  std::vector<float> image(size_t(n * per)), normalized;  // (n, C, H, W) each
  Rng rng(seed);
  std::string files;
  for (int i = 0; i < n; ++i) {
    data::Image face;
    if (images.empty()) {
      face = generated_face(raw.prepared_w(), raw.prepared_h(), raw.channels, rng);
    } else {
      std::string error;
      if (!data::load_image(images[size_t(i)], raw.channels, face, error))
        throw std::runtime_error("--check-images: '" + images[size_t(i)] + "': " + error);
      face = data::prepare(face, raw);
      files += fs::path(images[size_t(i)]).filename().string() + "\n";
    }
    data::finish(face, raw, false, 0, image.data() + i * per);
  }
  normalized = image;
  if (!m.transform.norm.mean.empty())
    for (int i = 0; i < n; ++i)
      data::normalize(normalized.data() + i * per, int(in[1]), int(in[2] * in[3]), m.transform.norm.mean,
                      m.transform.norm.std);
  NoGradGuard no_grad;
  m.model->set_training(false);
  const std::vector<Tensor> outs = m.model->forward(Tensor::from_vector(normalized, in, m.model->device()));
  std::vector<SafeTensor> tensors{SafeTensor::f32("image", in, image.data())};
  for (size_t h = 0; h < outs.size(); ++h) {
    const Tensor y = m.model->heads()[h].regression ? outs[h] : softmax(outs[h]);
    const std::vector<float> v = y.to_vector();
    tensors.push_back(SafeTensor::f32(m.model->heads()[h].name, y.shape(), v.data()));
  }
  std::map<std::string, std::string> meta{{"facet_check", "inputs and facet's outputs; see docs/export.md"}};
  if (!files.empty()) meta["files"] = files;
  write_safetensors(path, tensors, meta);
}

void run_export(const ExportArgs& a) {
  std::string format = a.format;
  if (format.empty()) {
    const std::string ext = fs::path(a.out).extension().string();
    format = ext == ".onnx" ? "onnx" : ext == ".safetensors" ? "safetensors" : "";
    if (format.empty())
      throw std::invalid_argument("--out '" + a.out + "': say --format safetensors or --format onnx (or name the "
                                  "file .safetensors / .onnx)");
  }
  LoadedModel m = load_model_checkpoint(a.checkpoint);
  const nlohmann::json info = {{"model", m.model->config()}, {"scheme", m.meta.at("scheme")},
                               {"transform", m.meta.at("transform")}};
  if (format == "safetensors") export_safetensors(*m.model, info, a.out);
  else export_onnx(*m.model, info, a.out);
  std::cout << "wrote " << a.out << " (" << format << ", " << m.model->kind() << ", " << fs::file_size(a.out)
            << " bytes)\n";
  std::vector<std::string> images;
  if (!a.check_images.empty()) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(a.check_images, ec))
      if (e.is_regular_file()) images.push_back(e.path().string());
    if (ec || images.empty())
      throw std::runtime_error("--check-images '" + a.check_images + "' is no folder of images");
    std::sort(images.begin(), images.end());
    images.resize(std::min(images.size(), size_t(a.check > 0 ? a.check : 64)));
  }
  if (a.check > 0 || !images.empty()) {
    const std::string check = a.out + ".check.safetensors";
    write_check(m, a.check, a.seed, images, check);
    std::cout << "wrote " << check << " (" << (images.empty() ? std::to_string(a.check) + " generated" :
                 std::to_string(images.size()) + " of the") << " faces and facet's outputs)\n";
  }
}

// The model config, label scheme and transform: from the file's __metadata__, else from --config (a facet run's
// config.json, or a JSON file with "model", "scheme" and "transform").
nlohmann::json import_info(const SafetensorsFile& f, const ImportArgs& a) {
  nlohmann::json info;
  if (!a.config.empty()) {
    std::ifstream in(a.config);
    if (!in) throw std::runtime_error("--config '" + a.config + "' cannot be read");
    try {
      const nlohmann::json c = nlohmann::json::parse(in);
      info["model"] = c.contains("spec") ? c.at("spec").at("model") : c.at("model");
      info["scheme"] = c.at("scheme");
      info["transform"] = c.at("transform");
      if (c.contains("spec")) info["spec"] = c.at("spec");
    } catch (const nlohmann::json::exception& e) {
      throw std::runtime_error("--config '" + a.config + "' is not a facet run's config.json (with spec.model, "
                               "scheme, transform): " + e.what());
    }
    return info;
  }
  for (const char* key : {"model", "scheme", "transform"}) {
    const auto it = f.metadata.find(key);
    if (it == f.metadata.end())
      throw std::runtime_error("safetensors file '" + f.path + "' has no __metadata__ '" + key +
                               "': pass --config RUN/config.json (the facet run whose recipe the weights follow)");
    try {
      info[key] = nlohmann::json::parse(it->second);
    } catch (const nlohmann::json::exception& e) {
      throw std::runtime_error("safetensors file '" + f.path + "': __metadata__ '" + key + "' is not JSON: " + e.what());
    }
  }
  return info;
}

void run_import(const ImportArgs& a) {
  const SafetensorsFile f = read_safetensors(a.from);
  nlohmann::json info = import_info(f, a);
  const std::string kind = info["model"].value("kind", "");
  if (kind != a.model)
    throw std::runtime_error("safetensors file '" + a.from + "' describes a '" + kind + "' model, not --model " +
                             a.model);
  std::unique_ptr<Model> model;
  try {
    model = make_model(info["model"], 0);
    (void)data::LabelScheme::from_json(info["scheme"]);
    (void)transform_from_json(info["transform"]);
  } catch (const std::exception& e) {
    throw std::runtime_error("safetensors file '" + a.from + "': its model config, label scheme or transform does not "
                             "describe a model facet can build: " + e.what());
  }
  import_safetensors(f, *model);
  std::vector<NamedTensor> tensors = model->parameters();
  for (auto& b : model->buffers()) tensors.push_back(b);
  nlohmann::json meta = info;
  meta["model"] = model->config();
  meta["facet_checkpoint"] = "model";
  meta["imported_from"] = a.from;
  save_checkpoint(a.out, tensors, meta);  // atomic: a failed import leaves an existing file as it was
  std::cout << "imported " << tensors.size() << " tensors of a " << kind << " model from " << a.from << " into "
            << a.out << "\n";
}

}  // namespace

void add_export_commands(CLI::App& app) {
  auto e = std::make_shared<ExportArgs>();
  CLI::App* ex = app.add_subcommand("export", "write a checkpoint's model as safetensors (PyTorch names and layouts) "
                                              "or ONNX (opset 17); see docs/export.md");
  ex->add_option("--checkpoint", e->checkpoint, "best.ckpt or last.ckpt of a run")->required();
  ex->add_option("--format", e->format, "safetensors or onnx (default: from --out's extension)")
      ->check(CLI::IsMember({"safetensors", "onnx"}));
  ex->add_option("--out", e->out, "the file to write (atomically)")->required();
  ex->add_option("--check", e->check, "also write <out>.check.safetensors: N generated faces as the graph's input "
                                      "and facet's outputs on them, to compare another runtime against")
      ->check(facet::cli::number_in(0, 4096));
  ex->add_option("--check-images", e->check_images, "with --check: the first N images (sorted by name) of this "
                                                    "folder instead of generated faces (default N: 64)");
  ex->add_option("--seed", e->seed, "seed of the generated faces")->capture_default_str();
  ex->callback([e] { run_export(*e); });

  auto i = std::make_shared<ImportArgs>();
  CLI::App* im = app.add_subcommand("import", "read safetensors weights (PyTorch's names, e.g. saved by "
                                              "bench/peer/torch_train.py) into a facet checkpoint");
  im->add_option("--from", i->from, "the .safetensors file")->required();
  im->add_option("--model", i->model, "the model the weights are for (basecnn, levihassner, fcn2hot, tuple)")
      ->required()
      ->check(CLI::IsMember({"basecnn", "levihassner", "fcn2hot", "tuple"}));
  im->add_option("--config", i->config, "a facet run's config.json giving the model, labels and transform, when "
                                        "the file's __metadata__ does not");
  im->add_option("--out", i->out, "the checkpoint to write (atomically)")->required();
  im->callback([i] { run_import(*i); });
}
