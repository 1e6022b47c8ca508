#include "apps/cmd_viz.h"

#include <omp.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <stdexcept>

#include "apps/cli_checks.h"
#include "apps/cmd_eval.h"
#include "models/viz.h"

namespace fs = std::filesystem;
using namespace facet;

namespace {

struct VizArgs {
  std::string checkpoint, out, head, cls;
  std::vector<std::string> faces;
  int cell = 32, threads = 0;
};

LoadedModel load(const VizArgs& a) {
  if (a.threads > 0) omp_set_num_threads(a.threads);
  return load_expected_model(a.checkpoint, "", "");
}

void make_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    throw std::runtime_error("--out '" + dir + "': cannot create the directory (" + ec.message() + ")");
}

std::string stem_of(const std::string& file) {
  std::string s = fs::path(file).filename().string();
  const auto dot = s.find('.');
  return dot == std::string::npos || dot == 0 ? s : s.substr(0, dot);
}

// --head NAME (default: the first classification head) -> head index; --class K or a class name -> index, or
// -1 (each face's predicted class).
void resolve_head(const LoadedModel& m, const VizArgs& a, int& head, int& cls,
                  std::vector<std::string>& names) {
  const auto& heads = m.model->heads();
  head = -1;
  std::string known;
  for (size_t h = 0; h < heads.size(); ++h) {
    known += (known.empty() ? "" : ", ") + heads[h].name;
    if ((a.head.empty() && !heads[h].regression && head < 0) || heads[h].name == a.head) head = int(h);
  }
  if (head < 0) throw std::invalid_argument("--head '" + a.head + "': the model's heads are " + known);
  names.clear();
  for (const auto& t : m.scheme.tasks)
    if (t.name == heads[size_t(head)].name) names = t.classes;
  cls = -1;
  if (a.cls.empty()) return;
  for (size_t k = 0; k < names.size(); ++k)
    if (names[k] == a.cls) cls = int(k);
  if (cls < 0) {
    try {
      size_t used = 0;
      cls = std::stoi(a.cls, &used);
      if (used != a.cls.size()) cls = -2;
    } catch (const std::exception&) {
      cls = -2;
    }
  }
  if (cls < 0 || cls >= heads[size_t(head)].outputs) {
    std::string list;
    for (size_t k = 0; k < names.size(); ++k) list += (k ? ", " : "") + std::to_string(k) + " " + names[k];
    throw std::invalid_argument("--class '" + a.cls + "': head '" + heads[size_t(head)].name +
                                "' has classes 0.." + std::to_string(heads[size_t(head)].outputs - 1) +
                                (list.empty() ? "" : " (" + list + ")"));
  }
}

void run_cam(const VizArgs& a) {
  LoadedModel m = load(a);
  int head = 0, cls = -1;
  std::vector<std::string> names;
  resolve_head(m, a, head, cls, names);
  make_dir(a.out);
  const FaceBatch faces = load_faces(a.faces, m.transform);
  const GradCam g = grad_cam(*m.model, faces.x, head, cls);
  const int factor = std::max(1, 128 / std::max(m.transform.width, m.transform.height));
  std::vector<data::Image> row;
  for (size_t n = 0; n < a.faces.size(); ++n) {
    const data::Image face = enlarge(faces.views[n], factor);
    const data::Image pair = tile_images({face, overlay_cam(face, g.cam[n], g.h, g.w)}, 2, 2);
    const std::string path = (fs::path(a.out) / ("cam_" + stem_of(a.faces[n]) + ".png")).string();
    data::write_png(path, pair);
    row.push_back(pair);
    const int c = g.cls[n];
    std::printf("%s: head %s class %d%s%s (probability %.3f), Grad-CAM at %s (%dx%d) -> %s\n",
                a.faces[n].c_str(), m.model->heads()[size_t(head)].name.c_str(), c, names.empty() ? "" : " ",
                size_t(c) < names.size() ? names[size_t(c)].c_str() : "", double(g.prob[n]), g.layer.c_str(),
                g.h, g.w, path.c_str());
  }
  const std::string all = (fs::path(a.out) / "cam_all.png").string();
  data::write_png(all, tile_images(row, 4, 6));
  std::printf("wrote %s (every face: the face, then the heat map over it)\n", all.c_str());
}

void run_features(const VizArgs& a) {
  LoadedModel m = load(a);
  make_dir(a.out);
  const FaceBatch face = load_faces(a.faces, m.transform);
  const int factor = std::max(1, 128 / std::max(m.transform.width, m.transform.height));
  data::write_png((fs::path(a.out) / "input.png").string(), enlarge(face.views[0], factor));
  for (const FeatureMap& f : feature_maps(*m.model, face.x, a.cell)) {
    const std::string path = (fs::path(a.out) / ("features_" + f.layer + ".png")).string();
    data::write_png(path, f.grid);
    std::printf("%s: %s, %lld maps of %lldx%lld -> %s\n", f.layer.c_str(), shape_str(f.shape).c_str(),
                (long long)f.shape[1], (long long)f.shape[2], (long long)f.shape[3], path.c_str());
  }
}

void common_options(CLI::App* cmd, VizArgs& a) {
  cmd->add_option("--checkpoint", a.checkpoint, "best.ckpt or last.ckpt of a run")->required();
  cmd->add_option("--threads", a.threads, "kernel threads (default: all cores)")
      ->check(facet::cli::threads_range(1));
  facet::cli::add_max_pixels(cmd);
}

}  // namespace

void add_viz_commands(CLI::App& app) {
  CLI::App* viz =
      app.add_subcommand("viz", "pictures of what a network sees: filters, feature maps, Grad-CAM (PNG)");
  viz->require_subcommand(1);

  auto f = std::make_shared<VizArgs>();
  f->out = "filters.png";
  CLI::App* filters =
      viz->add_subcommand("filters", "the first conv layer's filters as a PNG grid (0 = grey)");
  common_options(filters, *f);
  filters->add_option("--out", f->out, "the PNG to write")->capture_default_str();
  filters->add_option("--cell", f->cell, "pixels per filter (about)")
      ->check(facet::cli::number_in(4, 256))
      ->capture_default_str();
  filters->callback([f] {
    LoadedModel m = load(*f);
    const data::Image img = filter_grid(*m.model, f->cell);
    data::write_png(f->out, img);
    std::printf("wrote %s (%dx%d)\n", f->out.c_str(), img.w, img.h);
  });

  auto e = std::make_shared<VizArgs>();
  e->out = "features";
  e->cell = 48;
  CLI::App* features = viz->add_subcommand("features",
                                           "the feature maps of every conv cycle for one face, one PNG "
                                           "per cycle (each map min-max scaled)");
  common_options(features, *e);
  features->add_option("face", e->faces, "one face image")->required()->expected(1);
  features->add_option("--out", e->out, "directory for input.png and features_<layer>.png")
      ->capture_default_str();
  features->add_option("--cell", e->cell, "pixels per map (about)")
      ->check(facet::cli::number_in(4, 256))
      ->capture_default_str();
  features->callback([e] { run_features(*e); });

  auto c = std::make_shared<VizArgs>();
  c->out = "cam";
  CLI::App* cam =
      viz->add_subcommand("cam", "Grad-CAM heat maps for a chosen head and class, over each face");
  common_options(cam, *c);
  cam->add_option("faces", c->faces, "face images")->required();
  cam->add_option("--head", c->head, "the head to explain (default: the first classification head)");
  cam->add_option("--class", c->cls, "class index or name (default: each face's predicted class)");
  cam->add_option("--out", c->out, "directory for cam_<face>.png and cam_all.png")->capture_default_str();
  cam->callback([c] { run_cam(*c); });
}
