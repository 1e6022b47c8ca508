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

#include "apps/cmd_eval.h"
#include "apps/cli_checks.h"
#include "data/readers.h"
#include "data/transforms.h"
#include "models/report.h"

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
    std::vector<LoadedModel> members = load_ensemble(a->checkpoints, a->model, "", device);
    std::vector<Model*> models;
    for (const auto& mm : members) {
      models.push_back(mm.model.get());
      if (mm.transform.channels != members[0].transform.channels)  // one decoding of each image serves all
        throw std::runtime_error("checkpoint '" + a->checkpoints[models.size() - 1] + "' reads " +
                                 std::to_string(mm.transform.channels) + " channel(s), '" + a->checkpoints[0] + "' " +
                                 std::to_string(members[0].transform.channels) +
                                 ": an ensemble's members must all be colour or all grayscale");
    }
    LoadedModel& m = members[0];
    const auto attributes = m.model->attributes();
    std::vector<int> attr_task;
    for (const auto& at : attributes) {
      int t = -1;
      for (size_t k = 0; k < m.scheme.tasks.size(); ++k)
        if (m.scheme.tasks[k].name == at.name) t = int(k);
      attr_task.push_back(t);
    }
    const auto& tc = m.transform;
    nlohmann::json all = nlohmann::json::array();
    std::vector<Tile> tiles;
    int predicted = 0, failed = 0;

    for (const std::string& file : expand_inputs(a->inputs)) {
      std::vector<Item> items = decode_file(file, tc.channels);
      // Batch the decodable items of this file (all frames of a GIF at once), once per member in its own
      // input transform.
      std::vector<size_t> ok;
      for (size_t i = 0; i < items.size(); ++i)
        if (items[i].error.empty() && !items[i].image.empty()) ok.push_back(i);
      std::vector<data::Batch> bs(members.size());
      std::vector<const data::Batch*> batches;
      for (size_t k = 0; k < members.size(); ++k) {
        const auto& t = members[k].transform;
        data::Batch& b = bs[k];
        b.c = t.channels, b.h = t.height, b.w = t.width;
        b.n = int(ok.size());
        const size_t per_image = size_t(t.channels) * t.width * t.height;
        b.images.resize(ok.size() * per_image);
        for (size_t j = 0; j < ok.size(); ++j)
          data::finish(data::prepare(items[ok[j]].image, t), t, false, 0, b.images.data() + j * per_image);
        batches.push_back(&b);
      }
      Prediction p;
      if (!ok.empty()) p = m.model->predict(infer_ensemble(models, batches, a->tta));
      const std::vector<int32_t> truth = truth_of(file, m.scheme);
      size_t k = 0;
      for (size_t i = 0; i < items.size(); ++i) {
        nlohmann::json e = {{"file", items[i].file}};
        if (items[i].frame >= 0) e["frame"] = items[i].frame;
        if (k >= ok.size() || ok[k] != i) {
          e["error"] = items[i].error.empty() ? "cannot decode" : items[i].error;
          ++failed;
        } else {
          Tile tile;
          tile.image = items[i].image;
          std::string name = fs::path(file).filename().string();
          if (items[i].frame >= 0) name += " #" + std::to_string(items[i].frame);
          tile.lines.push_back({short_name(name, 20), kGray});
          for (size_t at = 0; at < attributes.size(); ++at) {
            int32_t cls = p.classes[at][k];
            const float prob = p.confidence[at][k];
            if (cls >= 0 && prob < a->min_confidence) cls = -1;
            if (!p.defined.empty() && !p.defined[at][k]) cls = -1;  // the model's own reject rule
            const int task = attr_task[at];
            const std::string cname =
                cls < 0 || task < 0 ? "undefined" : m.scheme.tasks[size_t(task)].classes[size_t(cls)];
            e["predictions"][attributes[at].name] = {{"class", cls}, {"name", cname}, {"probability", prob}};
            std::string line = attributes[at].name.substr(0, 1) + ": " + cname;  // contact_sheet wraps it
            uint32_t color = kBlack;
            if (!truth.empty() && task >= 0) {
              const int32_t t = truth[size_t(task)];
              e["truth"][attributes[at].name] = {{"class", t}, {"name", m.scheme.tasks[size_t(task)].classes[size_t(t)]}};
              line += " (" + m.scheme.tasks[size_t(task)].classes[size_t(t)] + ")";
              color = t == cls ? kGreen : kRed;
            }
            tile.lines.push_back({line, color});
          }
          if (tiles.size() < 32) tiles.push_back(std::move(tile));
          ++predicted;
          ++k;
        }
        std::cout << e.dump() << "\n";
        all.push_back(std::move(e));
      }
    }
    std::cout << std::flush;
    std::cerr << "predicted " << predicted << " image(s)" << (failed ? ", " + std::to_string(failed) + " failed" : "")
              << "\n";
    if (!a->json.empty()) {
      facet::io::write_file_atomic(a->json, all.dump(2) + "\n");
    }
    if (!a->grid.empty()) {
      contact_sheet(a->grid, tiles, 8, 96,
                    "facet predict: " + m.model->kind() +
                        (members.size() > 1 ? " ensemble of " + std::to_string(members.size()) : std::string()) +
                        " (prediction, truth in brackets: green right, red wrong)");
      std::cerr << "wrote " << a->grid << " (" << tiles.size() << " faces)\n";
    }
    if (predicted == 0) throw std::runtime_error("no image could be predicted (" + std::to_string(failed) + " failed)");
  });
}
