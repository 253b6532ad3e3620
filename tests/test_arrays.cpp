// The arrays task (arrays:DIR): the data checks, the splits, the seeds and
// the prompt header, on folders the test writes.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "npy.hpp"
#include "tasks/arrays/arrays_data.hpp"
#include "tasks/arrays/arrays_task.hpp"
#include "tasks/task.hpp"

using namespace evoprompt;
namespace fs = std::filesystem;

namespace {

// A fresh folder under the temp dir, removed at the end of the test.
struct DataDir {
  fs::path path;
  explicit DataDir(const std::string& name) : path(fs::temp_directory_path() / ("evoprompt_arrays_" + name)) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~DataDir() { fs::remove_all(path); }
  std::string str() const { return path.string(); }
  void x(const std::vector<std::int64_t>& shape, std::vector<double> v, const char* name = "x.npy") const {
    write_npy((path / name).string(), shape, v);
  }
  void y(std::vector<std::int64_t> v, const char* name = "y.npy") const {
    write_npy((path / name).string(), {static_cast<std::int64_t>(v.size())}, v);
  }
  void text(const char* name, const std::string& s) const { std::ofstream(path / name) << s; }
};

// n rows of [2, 3], labels i % classes.
void images(const DataDir& d, std::int64_t n, std::int64_t classes) {
  std::vector<double> x;
  std::vector<std::int64_t> y;
  for (std::int64_t i = 0; i < n; ++i) {
    for (int k = 0; k < 6; ++k) x.push_back(static_cast<double>((i % classes) * 10 + k));
    y.push_back(i % classes);
  }
  d.x({n, 2, 3}, x);
  d.y(y);
}

std::string refusal(const std::string& dir) {
  try {
    (void)tasks::find_task("arrays:" + dir);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("arrays: the name, the automatic splits and the seeds sized from the data", "[arrays]") {
  DataDir d("ok");
  images(d, 100, 4);
  const tasks::TaskConfig c = tasks::find_task("arrays:" + d.str());
  CHECK(c.name == "arrays:" + d.str());
  CHECK(c.options.at("val_size") == 16);   // a fifth of the 80 rows left after the test rows
  CHECK(c.options.at("test_size") == 20);  // a fifth of the rows
  CHECK(c.task->contract().opening == "struct Model : torch::nn::Module {");
  const auto header = c.task->data_description(c.options);
  REQUIRE(header);
  CHECK(header->input_shape == std::vector<std::int64_t>{2, 3});
  CHECK(header->classes == 4);
  CHECK(header->text.empty());

  const auto seeds = c.task->seeds(c.options);
  REQUIRE(seeds.size() == 3);
  CHECK(seeds[0].name == "cnn");
  CHECK(seeds[0].source.find("torch::nn::Conv1d(torch::nn::Conv1dOptions(2, 16, 3).stride(2).padding(1))") !=
        std::string::npos);
  CHECK(seeds[0].source.find("torch::nn::Linear(32, 4)") != std::string::npos);  // lengths 3 -> 2 -> 1
  CHECK(seeds[1].name == "mlp");
  CHECK(seeds[1].source.find("torch::nn::Linear(6, 64)") != std::string::npos);
  CHECK(seeds[1].source.find("input(x.flatten(1))") != std::string::npos);
  CHECK(seeds[2].name == "small_mlp");
  CHECK(seeds[2].source.find("torch::nn::Linear(6, 16)") != std::string::npos);

  // Splits: disjoint, covering, seeded.
  const auto s = tasks::inspect_arrays(d.str());
  const auto a = tasks::split_arrays(s, 16, 20, 42), b = tasks::split_arrays(s, 16, 20, 42);
  CHECK(a.train == b.train);
  CHECK(a.val == b.val);
  CHECK(a.test == b.test);
  CHECK(a.train.size() == 64);
  std::vector<std::int64_t> all = a.train;
  all.insert(all.end(), a.val.begin(), a.val.end());
  all.insert(all.end(), a.test.begin(), a.test.end());
  std::sort(all.begin(), all.end());
  for (std::int64_t i = 0; i < 100; ++i) CHECK(all[static_cast<std::size_t>(i)] == i);
  // Another validation size leaves the test rows where they were.
  CHECK(tasks::split_arrays(s, 10, 20, 42).test == a.test);

  // Flags: --val-size set, --data is MNIST-1D's.
  const auto e = tasks::task_config(c.name, {{"val_size", 30}});
  CHECK(e.options.at("val_size") == 30);
  CHECK(tasks::arrays_option_table().to_json(ArraysEvaluatorOptions{}).contains("seeds_dir"));
}

TEST_CASE("arrays: task.toml, test files, image and vector seeds, the user's seed folder", "[arrays]") {
  DataDir d("toml");
  std::vector<double> x(50 * 3 * 8 * 6, 0.5);
  std::vector<std::int64_t> y;
  for (int i = 0; i < 50; ++i) y.push_back(i % 3);
  d.x({50, 3, 8, 6}, x);
  d.y(y);
  d.x({10, 3, 8, 6}, std::vector<double>(10 * 3 * 8 * 6, 0.1), "x_test.npy");
  d.y({0, 1, 2, 0, 1, 2, 0, 1, 2, 0}, "y_test.npy");
  d.text("task.toml", "description = \"tiny images\"\nval_size = 7\n");
  const auto c = tasks::find_task("arrays:" + d.str());
  CHECK(c.options.at("val_size") == 7);
  CHECK(c.options.at("test_size") == 0);  // the folder's own test set
  CHECK(c.task->data_description(c.options)->text == "tiny images");
  const auto seeds = c.task->seeds(c.options);
  REQUIRE(seeds.size() == 3);
  CHECK(seeds[0].source.find("torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 16, 3).stride(2).padding(1))") !=
        std::string::npos);
  CHECK(seeds[0].source.find("torch::nn::Linear(128, 3)") != std::string::npos);  // 32 x 2 x 2
  const auto split = tasks::split_arrays(tasks::inspect_arrays(d.str()), 7, 0, 42);
  CHECK(split.train.size() == 43);
  CHECK(split.test.empty());

  DataDir v("vectors");
  v.x({6, 4}, std::vector<double>(24, 1.0));
  v.y({0, 1, 0, 1, 0, 1});
  const auto vc = tasks::find_task("arrays:" + v.str());
  const auto vs = vc.task->seeds(vc.options);
  REQUIRE(vs.size() == 2);
  CHECK(vs[0].name == "mlp");
  CHECK(vs[0].source.find("input(x)") != std::string::npos);
  CHECK(vs[1].name == "small_mlp");
  CHECK(vs[1].source.find("torch::nn::Linear(4, 16)") != std::string::npos);
  CHECK(vs[1].source.find("torch::nn::Linear(16, 2)") != std::string::npos);
  CHECK(vs[1].source.find("hidden(x)") != std::string::npos);

  DataDir seeds_dir("seeds");
  seeds_dir.text("b_net.cpp", "struct Model : torch::nn::Module {};\n");
  seeds_dir.text("a_net.cpp", "// a\n");
  seeds_dir.text("notes.txt", "not a seed");
  const auto u = tasks::task_config(vc.name, {{"seeds_dir", seeds_dir.str()}});
  const auto us = u.task->seeds(u.options);
  REQUIRE(us.size() == 2);
  CHECK(us[0].name == "a_net");
  CHECK(us[1].name == "b_net");
  CHECK(us[1].source == "struct Model : torch::nn::Module {};\n");
  DataDir none("noseeds");
  const auto empty = tasks::task_config(vc.name, {{"seeds_dir", none.str()}});
  CHECK_THROWS_WITH(empty.task->seeds(empty.options), none.str() + ": no seed files (*.cpp)");
}

TEST_CASE("arrays: bad data is refused in one line naming the file", "[arrays]") {
  DataDir d("bad");
  const std::string x = d.str() + "/x.npy", y = d.str() + "/y.npy";
  CHECK(refusal(d.str()) == d.str() + ": no x.npy (an arrays task needs x.npy [N, ...] and y.npy [N])");
  CHECK(refusal("") == "task arrays: needs a data folder, e.g. arrays:data/digits");

  d.x({4, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  d.y({0, 1, 0});
  CHECK(refusal(d.str()) == y + ": 3 labels for the 4 rows of x.npy");
  d.y({0, 1, 0, 5});
  d.text("task.toml", "classes = 3\n");
  CHECK(refusal(d.str()) == y + ": label 5 at row 3 is out of range 0..2 (task.toml classes = 3)");
  fs::remove(d.path / "task.toml");
  d.y({0, -1, 0, 1});
  CHECK(refusal(d.str()) == y + ": label -1 at row 1 is out of range 0..1");
  d.y({0, 0, 0, 0});
  CHECK(refusal(d.str()) == y + ": fewer than 2 classes (every label is 0)");
  d.x({4}, {1, 2, 3, 4}, "y.npy");
  CHECK(refusal(d.str()) == y + ": labels must be integers (int64), not floating point");
  d.y({0, 1, 0, 1});
  d.x({4, 2}, {1, 2, 3, std::nan(""), 5, 6, 7, 8});
  CHECK(refusal(d.str()) == x + ": NaN at row 1");
  d.x({4, 2}, {1, 2, 3, 4, 5, 6, 7, HUGE_VAL});
  CHECK(refusal(d.str()) == x + ": Inf at row 3");
  write_npy(x, {4, 2}, std::vector<std::int64_t>{1, 2, 3, 4, 5, 6, 7, 8});
  CHECK(refusal(d.str()) == x + ": inputs must be float32 or float64, not integers (cast them: x.astype('float32'))");
  d.x({0, 2}, {});
  CHECK(refusal(d.str()) == x + ": empty (shape [0, 2])");
  d.x({4}, {1, 2, 3, 4});
  CHECK(refusal(d.str()) == x + ": inputs must be [N, ...] with at least one value per row, not [4]");
  d.x({3, 2}, {1, 2, 3, 4, 5, 6});
  d.y({0, 1, 0});
  CHECK(refusal(d.str()) == d.str() + ": 3 rows are too few for a validation split of 1 and a test split of 1 "
                                      "(at least 2 rows must be left to train on)");
  d.text("x.npy", "not an array");
  CHECK(refusal(d.str()).rfind(x + ": ", 0) == 0);
  d.x({6, 2}, std::vector<double>(12, 0.0));
  d.y({0, 1, 0, 1, 0, 1});
  d.text("task.toml", "descripton = \"typo\"\n");
  CHECK(refusal(d.str()) == d.str() + "/task.toml: unknown or mistyped key 'descripton' (description = \"...\", "
                                      "val_size = N, classes = N)");
  fs::remove(d.path / "task.toml");
  d.y({0, 1}, "y_test.npy");
  CHECK(refusal(d.str()) == d.str() + ": has y_test.npy but no x_test.npy");
  d.x({2, 3}, std::vector<double>(6, 0.0), "x_test.npy");
  CHECK(refusal(d.str()) == d.str() + "/x_test.npy: rows of [3], but x.npy's are [2]");
  fs::remove(d.path / "x_test.npy");
  fs::remove(d.path / "y_test.npy");
  CHECK(refusal(d.str()).empty());
}
