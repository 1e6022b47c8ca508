#include "apps/cmd_predict.h"
#include "data/io/atomic_file.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include <stb_image.h>

#include "apps/cli_checks.h"
#include "data/readers.h"
#include "data/transforms.h"
#include "models/training/report.h"
#include "models/predictor_internal.h"

namespace fs = std::filesystem;
using namespace facet;

namespace {

struct PredictArgs {
  std::vector<std::string> checkpoints;
  std::string grid, json, model, device = "cpu";
  std::vector<std::string> inputs;
  bool tta = false;
  float min_confidence = 0;
  int threads = 0;
};

// One picture to predict: a file, or one frame of an animated GIF.
struct Item {
  std::string file;
  int frame = -1;  // -1: not a GIF frame
  data::Image image;
  std::string error;
};

bool image_extension(const fs::path& p) {
  std::string e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  for (const char* x : {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tga", ".ppm", ".pgm", ".pnm"})
    if (e == x) return true;
  return false;
}

// Files named on the command line, and the image files of named directories (sorted, not recursive).
std::vector<std::string> expand_inputs(const std::vector<std::string>& inputs) {
  std::vector<std::string> files;
  for (const auto& in : inputs) {
    std::error_code ec;
    if (fs::is_directory(in, ec)) {
      std::vector<std::string> found;
      for (const auto& e : fs::directory_iterator(in, ec))
        if (e.is_regular_file() && image_extension(e.path())) found.push_back(e.path().string());
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(in);
    }
  }
  return files;
}

// RGBA frame -> RGB (or gray) Image, alpha composited over black as data/image_io.h does for still images.
data::Image from_rgba(const uint8_t* rgba, int w, int h, int channels) {
  data::Image out(w, h, channels);
  for (size_t i = 0; i < size_t(w) * size_t(h); ++i) {
    const uint8_t* p = rgba + 4 * i;
    const int a = p[3];
    const int r = p[0] * a / 255, g = p[1] * a / 255, b = p[2] * a / 255;
    if (channels == 3) {
      out.pixels[3 * i] = uint8_t(r), out.pixels[3 * i + 1] = uint8_t(g), out.pixels[3 * i + 2] = uint8_t(b);
    } else {
      out.pixels[i] = uint8_t((299 * r + 587 * g + 114 * b + 500) / 1000);
    }
  }
  return out;
}

// Decodes one file into items: one for a still image, one per frame for an animated GIF, or one error item.
std::vector<Item> decode_file(const std::string& file, int channels) {
  std::vector<uint8_t> bytes;
  std::string error;
  if (!data::read_file_bytes(file, bytes, error)) return {{file, -1, {}, error}};
  // Structure and header dimensions (the pixel limit) before any decoding, GIFs included.
  const std::string problem = data::check_image_bytes(bytes.data(), bytes.size());
  if (!problem.empty()) return {{file, -1, {}, file + ": " + problem}};
  if (bytes.size() >= 6 && std::memcmp(bytes.data(), "GIF8", 4) == 0) {
    int* delays = nullptr;
    int w = 0, h = 0, frames = 0, comp = 0;
    stbi_uc* px = stbi_load_gif_from_memory(bytes.data(), int(bytes.size()), &delays, &w, &h, &frames, &comp, 4);
    if (!px || frames < 1)
      return {{file, -1, {}, file + ": cannot decode GIF (" + std::string(stbi_failure_reason()) + ")"}};
    std::vector<Item> items;
    for (int f = 0; f < frames; ++f)
      items.push_back({file, frames > 1 ? f : -1, from_rgba(px + size_t(f) * w * h * 4, w, h, channels), ""});
    stbi_image_free(px);
    stbi_image_free(delays);
    return items;
  }
  Item it{file, -1, {}, ""};
  if (!data::decode_image(bytes.data(), bytes.size(), channels, it.image, it.error, file)) it.image = {};
  return {it};
}

// The true classes of a UTKFace-named file under the model's scheme, or empty.
std::vector<int32_t> truth_of(const std::string& file, const data::LabelScheme& scheme) {
  const data::UtkName n = data::parse_utkface_name(fs::path(file).filename().string());
  if (!n.usable() || !n.flaws.empty()) return {};
  data::Sample s;
  s.age = n.age, s.gender = n.gender, s.race = n.race;
  std::vector<int32_t> classes;
  std::vector<float> targets;
  std::string why;
  if (!scheme.label(s, classes, targets, why)) return {};
  return classes;
}

std::string short_name(const std::string& s, size_t n) { return s.size() <= n ? s : s.substr(0, n - 2) + ".."; }

// What the render stage accumulates over every file: the JSON entries, the contact sheet's tiles, the counts.
struct Report {
  nlohmann::json all = nlohmann::json::array();
  std::vector<Tile> tiles;
  int predicted = 0, failed = 0;
};

// Batch stage: the decodable items of one file (all frames of a GIF at once) in one Predictor call; ok[k] is
// the item that preds[k] belongs to.
std::vector<ImagePrediction> predict_items(const Predictor& predictor, const std::vector<Item>& items,
                                           std::vector<size_t>& ok) {
  std::vector<ImageView> views;
  for (size_t i = 0; i < items.size(); ++i)
    if (items[i].error.empty() && !items[i].image.empty()) {
      ok.push_back(i);
      const data::Image& im = items[i].image;
      views.push_back({im.pixels.data(), im.w, im.h, im.c, 0});
    }
  return predictor.predict_batch(views);
}

// Render stage, one predicted item: its JSON "predictions" (and "truth" for UTKFace-named files) and its tile.
Tile render_prediction(const Item& item, const ImagePrediction& pred, const std::vector<int32_t>& truth,
                       const std::vector<int>& head_task, const data::LabelScheme& scheme, nlohmann::json& e) {
  Tile tile;
  tile.image = item.image;
  std::string name = fs::path(item.file).filename().string();
  if (item.frame >= 0) name += " #" + std::to_string(item.frame);
  tile.lines.push_back({short_name(name, 20), kGray});
  for (size_t at = 0; at < pred.heads.size(); ++at) {
    const HeadPrediction& h = pred.heads[at];
    e["predictions"][h.name] = {{"class", h.class_index}, {"name", h.label}, {"probability", h.probability}};
    std::string line = h.name.substr(0, 1) + ": " + h.label;  // contact_sheet wraps it
    uint32_t color = kBlack;
    const int task = head_task[at];
    if (!truth.empty() && task >= 0) {
      const int32_t t = truth[size_t(task)];
      const std::string& tname = scheme.tasks[size_t(task)].classes[size_t(t)];
      e["truth"][h.name] = {{"class", t}, {"name", tname}};
      line += " (" + tname + ")";
      color = t == h.class_index ? kGreen : kRed;
    }
    tile.lines.push_back({line, color});
  }
  return tile;
}

// Render stage, one file: a JSON line per item (an error entry for an item that did not decode).
void render_file(const std::string& file, const std::vector<Item>& items, const std::vector<size_t>& ok,
                 const std::vector<ImagePrediction>& preds, const Predictor& predictor, Report& report) {
  const data::LabelScheme& scheme = PredictorAccess::scheme(predictor);
  const std::vector<int32_t> truth = truth_of(file, scheme);
  size_t k = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    nlohmann::json e = {{"file", items[i].file}};
    if (items[i].frame >= 0) e["frame"] = items[i].frame;
    if (k >= ok.size() || ok[k] != i) {
      e["error"] = items[i].error.empty() ? "cannot decode" : items[i].error;
      ++report.failed;
    } else {
      Tile tile = render_prediction(items[i], preds[k], truth, PredictorAccess::head_tasks(predictor), scheme, e);
      if (report.tiles.size() < 32) report.tiles.push_back(std::move(tile));
      ++report.predicted;
      ++k;
    }
    std::cout << e.dump() << "\n";
    report.all.push_back(std::move(e));
  }
}

}  // namespace

void add_predict_commands(CLI::App& app) {
  auto a = std::make_shared<PredictArgs>();
  CLI::App* cmd = app.add_subcommand("predict", "predict age, gender, race for images, folders or animated GIFs "
                                                "(one JSON line per image or frame)");
  cmd->add_option("--checkpoint", a->checkpoints,
                  "best.ckpt or last.ckpt of a run; give it again to predict with an ensemble (the mean of the "
                  "models' outputs)")
      ->required()
      ->allow_extra_args(false);  // one path per --checkpoint: positional inputs stay inputs
  cmd->add_option("inputs", a->inputs, "image files, folders of images, animated GIFs")->required();
  cmd->add_option("--grid", a->grid, "also draw a labelled contact sheet of up to 32 faces to this PNG");
  cmd->add_option("--json", a->json, "also write all entries as one JSON array to this file");
  cmd->add_flag("--tta", a->tta, "test-time horizontal flip");
  cmd->add_option("--min-confidence", a->min_confidence,
                  "report a head's prediction as undefined when its probability is below this (a rejection rule)")
      ->check(facet::cli::number_in(0, 1));
  cmd->add_option("--model", a->model, "refuse the checkpoint unless it holds this model kind");
  cmd->add_option("--threads", a->threads, "kernel threads (default: all cores)")
      ->check(facet::cli::threads_range(1));
  cmd->add_option("--device", a->device, "cpu or cuda: where the model runs")->capture_default_str();
  facet::cli::add_max_pixels(cmd);

  cmd->callback([a] {
    if (a->threads > 0) omp_set_num_threads(a->threads);
    const Device device = parse_device(a->device);
    require_device(device, "--device " + a->device);
    PredictorOptions options;
    options.device = a->device, options.tta = a->tta, options.min_confidence = a->min_confidence;
    options.model_kind = a->model;
    const Predictor predictor(a->checkpoints, options);
    Report report;
    for (const std::string& file : expand_inputs(a->inputs)) {
      const std::vector<Item> items = decode_file(file, predictor.info().channels);  // decode
      std::vector<size_t> ok;
      const std::vector<ImagePrediction> preds = predict_items(predictor, items, ok);  // batch
      render_file(file, items, ok, preds, predictor, report);                          // render
    }
    std::cout << std::flush;
    std::cerr << "predicted " << report.predicted << " image(s)"
              << (report.failed ? ", " + std::to_string(report.failed) + " failed" : "") << "\n";
    if (!a->json.empty()) facet::io::write_file_atomic(a->json, report.all.dump(2) + "\n");
    if (!a->grid.empty()) {
      const int members = predictor.info().members;
      contact_sheet(a->grid, report.tiles, 8, 96,
                    "facet predict: " + predictor.info().kind +
                        (members > 1 ? " ensemble of " + std::to_string(members) : std::string()) +
                        " (prediction, truth in brackets: green right, red wrong)");
      std::cerr << "wrote " << a->grid << " (" << report.tiles.size() << " faces)\n";
    }
    if (report.predicted == 0)
      throw std::runtime_error("no image could be predicted (" + std::to_string(report.failed) + " failed)");
  });
}
