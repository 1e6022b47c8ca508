#include "apps/cmd_report.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "apps/cli_checks.h"
#include "apps/cmd_eval.h"
#include "data/io/atomic_file.h"
#include "data/readers.h"
#include "data/split.h"
#include "models/report_html.h"
#include "models/training/run_dir.h"
#include "models/training/trainer_data.h"
#include "models/training/trainer_run.h"
#include "models/viz.h"

namespace fs = std::filesystem;
using namespace facet;
using json = nlohmann::json;

namespace {

struct ReportArgs {
  std::vector<std::string> runs;
  std::string out, data;
  int faces = 256, grid = 24, cams = 4, threads = 0;
};

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

json read_json(const std::string& path) {  // null when absent or unreadable
  if (!fs::exists(path)) return nullptr;
  try {
    return json::parse(read_text(path));
  } catch (const std::exception&) {
    return nullptr;
  }
}

const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                         "#9467bd", "#8c564b", "#e377c2", "#17becf"};

std::string curves_of(const std::string& dir) {
  const html::Table t = html::parse_csv(read_text(RunDir(dir).metrics_csv()));
  if (t.rows.empty()) return "<p>No metrics.csv in " + html::escape(dir) + " (no epoch finished).</p>";
  std::vector<html::Curve> loss = {{"training loss", t.values("train_loss"), kColors[0], true},
                                   {"validation loss", t.values("val_loss"), kColors[0], false}};
  std::vector<html::Curve> acc;
  size_t k = 0;
  for (const auto& c : t.columns)
    if (c.rfind("train_", 0) == 0 && c != "train_loss") {
      const std::string a = c.substr(6);
      const std::string color = kColors[k++ % 8];
      std::vector<double> tr = t.values(c), va = t.values("val_" + a);
      for (double& v : tr) v *= 100;
      for (double& v : va) v *= 100;
      acc.push_back({a + " (training batches)", tr, color, true});
      acc.push_back({a + " (validation)", va, color, false});
    }
  return html::svg_chart("loss per epoch", "loss", loss) + html::svg_chart("accuracy per epoch", "%", acc);
}

std::string command_of(const std::string& dir, const json& config, const json& summary) {
  std::string s;
  if (config.is_object()) {
    s += "<pre>" + html::escape(config.value("command", std::string("(no command recorded)"))) + "</pre>";
    s += "<p>machine: " + html::escape(config.value("machine", std::string("?"))) + ", " +
         html::escape(config.value("device", std::string("cpu"))) + ", " +
         std::to_string(config.value("threads", 0)) + " threads</p>";
  } else {
    s += "<p>No config.json in " + html::escape(dir) + ".</p>";
  }
  if (summary.is_object()) {
    s += "<table>";
    for (const char* k : {"epochs_run", "best_epoch", "best_metric", "stopped_early", "train_seconds",
                          "train_faces", "val_faces", "test_faces"})
      if (summary.contains(k))
        s += "<tr><th>" + std::string(k) + "</th><td>" + html::escape(summary.at(k).dump()) + "</td></tr>";
    s += "</table>";
  }
  if (config.is_object() && config.contains("spec"))
    s += "<details><summary>configuration (config.json spec)</summary><pre>" +
         html::escape(config.at("spec").dump(2)) + "</pre></details>";
  return s;
}

// ---- faces of the test split
// -------------------------------------------------------------------------------------

struct FaceResult {
  std::string name;
  data::Image view;                  // what the network saw, 8-bit
  Tensor x;                          // (1, C, H, W)
  std::vector<int32_t> pred, truth;  // [attribute]
  std::vector<float> confidence;     // [attribute]
  int wrong = 0;
  double wrong_confidence = 0;  // sum of the confidence of the wrong predictions
};

// The run's test faces (at most `limit`, evenly spread), each predicted by the checkpoint, worst mistakes
// first: most attributes wrong, then the most confident wrong predictions. `why` says what is missing when
// empty.
std::vector<FaceResult> test_faces(const std::string& dir, LoadedModel& m, const ReportArgs& a,
                                   std::string& why) {
  const TrainSpec spec = train_spec_from_json(m.meta.value("spec", json::object()));
  std::string path = !a.data.empty()                                         ? a.data
                     : !spec.data.path.empty() && fs::exists(spec.data.path) ? spec.data.path
                                                                             : default_data_dir();
  if (!fs::exists(path) || !fs::exists(RunDir(dir).split())) {
    why = "the run's data (" + path + ") or " + dir + "/split.txt is missing: pass --data DIR";
    return {};
  }
  data::ReadOptions ro;
  ro.format = data::parse_format(a.data.empty() ? spec.data.format : "auto");
  ro.duplicates = data::parse_duplicate_policy(spec.data.duplicates);
  ro.adience.image_root = spec.data.adience_images;
  data::Dataset ds = data::read_dataset(path, ro).data;
  data::apply_scheme(ds, m.scheme);
  const data::Dataset test = data::apply_split(ds, data::read_split(RunDir(dir).split())).test;
  if (test.empty()) {
    why = "the test split of " + dir + "/split.txt holds none of the faces in " + path;
    return {};
  }
  const std::vector<int> tasks = attribute_tasks(*m.model, m.scheme);
  const size_t n = std::min(test.size(), size_t(a.faces));
  std::vector<FaceResult> out;
  NoGradGuard no_grad;
  for (size_t k = 0; k < n; ++k) {
    const data::Sample& s = test.samples[k * test.size() / n];
    data::Image img;
    std::string error;
    if (s.pixels)
      img = *s.pixels;
    else if (!data::load_image(s.path, m.transform.channels, img, error))
      continue;
    std::vector<int32_t> classes;
    std::vector<float> targets;
    if (!m.scheme.label(s, classes, targets, error)) continue;
    FaceBatch f = faces_from_images({img}, m.transform);
    const Prediction p = m.model->predict(m.model->forward(f.x));
    FaceResult r{s.name, f.views[0], f.x, {}, {}, {}, 0, 0};
    for (size_t at = 0; at < tasks.size(); ++at) {
      int32_t c = p.classes[at][0];
      if (!p.defined.empty() && !p.defined[at][0]) c = -1;
      r.pred.push_back(c);
      r.truth.push_back(tasks[at] >= 0 ? classes[size_t(tasks[at])] : -1);
      r.confidence.push_back(p.confidence[at][0]);
      if (r.truth.back() >= 0 && c != r.truth.back()) ++r.wrong, r.wrong_confidence += p.confidence[at][0];
    }
    out.push_back(std::move(r));
  }
  std::stable_sort(out.begin(), out.end(), [](const FaceResult& x, const FaceResult& y) {
    return x.wrong != y.wrong ? x.wrong > y.wrong : x.wrong_confidence > y.wrong_confidence;
  });
  return out;
}

std::string class_name(const LoadedModel& m, int task, int32_t c) {
  if (c < 0 || task < 0) return "undefined";
  return m.scheme.tasks[size_t(task)].classes[size_t(c)];
}

html::FaceCard card_of(const FaceResult& f, const LoadedModel& m, const data::Image& picture) {
  html::FaceCard card{picture, {}, f.name};
  const auto attrs = m.model->attributes();
  const std::vector<int> tasks = attribute_tasks(*m.model, m.scheme);
  for (size_t at = 0; at < attrs.size(); ++at) {
    char conf[32];
    std::snprintf(conf, sizeof conf, " %.0f%%", 100.0 * f.confidence[at]);
    std::string line = attrs[at].name + ": " + class_name(m, tasks[at], f.pred[at]) + conf;
    if (f.truth[at] >= 0) line += " (true: " + class_name(m, tasks[at], f.truth[at]) + ")";
    card.lines.push_back({line, f.truth[at] < 0 || f.truth[at] == f.pred[at]});
  }
  return card;
}

std::string cams_of(std::vector<FaceResult>& faces, LoadedModel& m, const ReportArgs& a, int factor) {
  std::vector<html::FaceCard> cards;
  const auto& heads = m.model->heads();
  try {
    for (size_t i = 0; i < faces.size() && int(i) < a.cams; ++i) {
      const data::Image face = enlarge(faces[i].view, factor);
      std::vector<data::Image> row = {face};
      std::string which;
      for (size_t h = 0; h < heads.size(); ++h) {
        if (heads[h].regression) continue;
        const GradCam g = grad_cam(*m.model, faces[i].x, int(h), -1);
        row.push_back(overlay_cam(face, g.cam[0], g.h, g.w));
        which += (which.empty() ? "" : ", ") + heads[h].name;
      }
      html::FaceCard c = card_of(faces[i], m, tile_images(row, int(row.size()), 2));
      c.lines.insert(c.lines.begin(), {"Grad-CAM of the predicted class: " + which, true});
      cards.push_back(c);
    }
  } catch (const std::invalid_argument& e) {
    return "<p>" + html::escape(e.what()) + "</p>";
  }
  return "<p>The face, then for each head the Grad-CAM heat map of its predicted class (red: where the "
         "evidence is) at the last convolutional activation.</p>" +
         html::face_grid(cards);
}

void report_one(const std::string& dir, const ReportArgs& a) {
  const json config = read_json(RunDir(dir).config()), summary = read_json(RunDir(dir).summary());
  const json test = read_json(RunDir(dir).test_prefix() + ".json");
  std::string body = html::section("command", "Command and configuration", command_of(dir, config, summary));
  body += html::section("curves", "Learning curves", curves_of(dir));
  const std::string no_test =
      "<p>No test.json in the run directory (trained with --no-test?): score it with "
      "<code>facet eval --checkpoint " +
      html::escape(dir) + "/best.ckpt --out " + html::escape(dir) + "/test</code>.</p>";
  body += html::section("confusion", "Confusion matrices (test split)",
                        test.is_object() ? html::confusion_section(test) : no_test);
  body += html::section("groups", "Accuracy by race and gender (test split)",
                        test.is_object() ? html::groups_section(test) : no_test);
  const std::string ckpt = fs::exists(RunDir(dir).best()) ? RunDir(dir).best() : RunDir(dir).last();
  std::string faces_html, cams_html;
  if (!fs::exists(ckpt)) {
    faces_html = cams_html = "<p>No checkpoint in " + html::escape(dir) + ".</p>";
  } else {
    LoadedModel m = load_model_checkpoint(ckpt);
    std::string why;
    std::vector<FaceResult> faces = test_faces(dir, m, a, why);
    const int factor = std::max(1, 96 / std::max(m.transform.width, m.transform.height));
    if (faces.empty()) {
      faces_html = cams_html = "<p>" + html::escape(why) + "</p>";
    } else {
      std::vector<html::FaceCard> cards;
      for (size_t i = 0; i < faces.size() && int(i) < a.grid; ++i)
        cards.push_back(card_of(faces[i], m, enlarge(faces[i].view, factor)));
      faces_html = "<p>" + std::to_string(cards.size()) + " of " + std::to_string(faces.size()) +
                   " test faces predicted by " + html::escape(ckpt) +
                   ", worst mistakes first (most attributes wrong, then the most confident).</p>" +
                   html::face_grid(cards);
      cams_html = cams_of(faces, m, a, factor);
    }
  }
  body += html::section("faces", "Test faces: prediction and truth", faces_html);
  body += html::section("gradcam", "Grad-CAM", cams_html);
  const std::string out = a.out.empty() ? RunDir(dir).report() : a.out;
  io::write_file_atomic(out, html::page("facet run " + fs::path(dir).filename().string(), body));
  std::cout << "wrote " << out << "\n";
}

void report_many(const ReportArgs& a) {
  std::vector<html::Curve> mean, loss;
  std::string table =
      "<table><tr><th>run</th><th>model</th><th>epochs</th><th>best epoch</th><th>train s</th>"
      "<th>test mean</th><th>test accuracy per attribute</th><th>command</th></tr>";
  for (size_t i = 0; i < a.runs.size(); ++i) {
    const std::string& dir = a.runs[i];
    const html::Table t = html::parse_csv(read_text(RunDir(dir).metrics_csv()));
    const std::string name = fs::path(dir).filename().string();
    std::vector<double> vm = t.values("val_mean");
    for (double& v : vm) v *= 100;
    mean.push_back({name, vm, kColors[i % 8], false});
    loss.push_back({name, t.values("val_loss"), kColors[i % 8], false});
    const json config = read_json(RunDir(dir).config()), summary = read_json(RunDir(dir).summary()),
               test = read_json(RunDir(dir).test_prefix() + ".json");
    std::string per;
    if (test.is_object())
      for (const auto& at : test.value("attributes", json::array()))
        per += at.at("name").get<std::string>() + " " +
               std::to_string(int(std::lround(1000 * at.at("accuracy").get<double>())) / 10.0).substr(0, 4) +
               "% ";
    auto get = [](const json& j, const char* k) {
      return j.is_object() && j.contains(k) ? j.at(k).dump() : "-";
    };
    const std::string kind =
        config.is_object() && config.contains("spec")
            ? config.at("spec").value("model", json::object()).value("kind", std::string("?"))
            : "?";
    table +=
        "<tr><th>" + html::escape(name) + "</th><td>" + html::escape(kind) + "</td><td>" +
        get(summary, "epochs_run") + "</td><td>" + get(summary, "best_epoch") + "</td><td>" +
        get(summary, "train_seconds") + "</td><td>" +
        (test.is_object() ? std::to_string(test.value("mean_accuracy", 0.0) * 100).substr(0, 5) + "%" : "-") +
        "</td><td>" + html::escape(per) + "</td><td><code>" +
        html::escape(config.is_object() ? config.value("command", std::string()) : "") + "</code></td></tr>";
  }
  table += "</table>";
  std::string body = html::section("metrics", "Metrics", table);
  body += html::section("curves", "Validation curves, overlaid",
                        html::svg_chart("validation mean accuracy", "%", mean) +
                            html::svg_chart("validation loss", "loss", loss));
  io::write_file_atomic(a.out,
                        html::page("facet: " + std::to_string(a.runs.size()) + " runs compared", body));
  std::cout << "wrote " << a.out << "\n";
}

}  // namespace

void add_report_commands(CLI::App& app) {
  auto a = std::make_shared<ReportArgs>();
  CLI::App* cmd = app.add_subcommand(
      "report",
      "an HTML page for a run (RUN_DIR/report.html: command, curves, confusion, race/gender, test faces, "
      "Grad-CAM), or one comparing several runs (--out); opens offline in a browser");
  cmd->add_option("runs", a->runs, "run directories (written by facet train --out)")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--out", a->out,
                  "the page to write (default RUN_DIR/report.html; required for several runs)");
  cmd->add_option("--data", a->data, "the data set, when the run's recorded path is not on this machine");
  cmd->add_option("--faces", a->faces, "test faces to predict for the grid (at most; evenly spread)")
      ->check(facet::cli::number_in(1, 100000))
      ->capture_default_str();
  cmd->add_option("--grid", a->grid, "faces shown in the grid")
      ->check(facet::cli::number_in(1, 1000))
      ->capture_default_str();
  cmd->add_option("--cams", a->cams, "faces with Grad-CAM")
      ->check(facet::cli::number_in(0, 100))
      ->capture_default_str();
  cmd->add_option("--threads", a->threads, "kernel threads (default: all cores)")
      ->check(facet::cli::threads_range(1));
  facet::cli::add_max_pixels(cmd);
  cmd->callback([a] {
    if (a->threads > 0) omp_set_num_threads(a->threads);
    if (a->runs.size() == 1) return report_one(a->runs[0], *a);
    if (a->out.empty())
      throw std::invalid_argument("several runs make one comparison page: give it a path with --out");
    report_many(*a);
  });
}
