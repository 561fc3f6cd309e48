// generation_config.json: EOS ids (one or a list) and sampling defaults; the Engine loaded
// from a folder stops on the union of config.json's and generation_config.json's EOS ids.
#include <catch2/catch.hpp>

#include <fstream>

#include "unit/engine/weights/temp_dir.hpp"
#include "warden/engine/engine.hpp"
#include "warden/engine/model/generation_config.hpp"
#include "warden/engine/model/tiny_model.hpp"

using namespace warden::engine;
using warden::test::TempDir;

TEST_CASE("generation_config.json: eos ids as a number or a list, sampling defaults", "[model][generation_config]") {
  TempDir dir("gen-config");
  CHECK(load_generation_config(dir.str()).eos_token_ids.empty());  // no file: nothing
  std::ofstream(dir / "generation_config.json") << R"({"eos_token_id": [128001, 128008, 128009], "temperature": 0.6,
      "top_p": 0.9, "top_k": 20, "do_sample": true})";
  GenerationDefaults d = load_generation_config(dir.str());
  CHECK(d.eos_token_ids == std::vector<int32_t>{128001, 128008, 128009});
  CHECK(d.temperature == Approx(0.6f));
  CHECK(d.top_p == Approx(0.9f));
  CHECK(d.top_k == 20);
  std::ofstream(dir / "generation_config.json") << R"({"eos_token_id": 7})";
  d = load_generation_config(dir.str());
  CHECK(d.eos_token_ids == std::vector<int32_t>{7});
  CHECK_FALSE(d.temperature);
  std::ofstream(dir / "generation_config.json") << R"({"eos_token_id": "seven"})";
  CHECK_THROWS_WITH(load_generation_config(dir.str()), Catch::Contains("eos_token_id"));
  std::ofstream(dir / "generation_config.json") << "{not json";
  CHECK_THROWS_WITH(load_generation_config(dir.str()), Catch::Contains("generation_config.json"));
}

TEST_CASE("an Engine from a folder stops on generation_config.json's EOS ids and takes its defaults",
          "[model][generation_config]") {
  TempDir dir("gen-config-engine");
  TinyModelOptions o;
  o.arch = "qwen2";
  o.vocab = "tiny";
  o.vocab_size = 300;
  o.out_dir = dir.str();
  const ModelConfig c = write_tiny_model(o);
  std::ofstream(dir / "generation_config.json") << R"({"eos_token_id": [)" << c.eos_token_ids.at(0)
                                                 << R"(, 17], "temperature": 0.3, "top_p": 0.8})";
  EngineConfig cfg;
  cfg.model_dir = dir.str();
  cfg.device = "cpu";
  cfg.num_blocks = 16;
  Engine engine(cfg);
  const auto eos = engine.eos_token_ids();
  CHECK(eos.front() == int32_t(c.eos_token_ids.at(0)));
  CHECK(std::find(eos.begin(), eos.end(), 17) != eos.end());
  CHECK(engine.config().default_temperature == Approx(0.3f));
  CHECK(engine.config().default_top_p == Approx(0.8f));
  CHECK_FALSE(engine.config().default_top_k);
}
