// embedding_gather against a host gather of the same bf16 table: a copy, so bit-exact;
// ids outside [0, vocab) give zero rows and nothing is read out of bounds.
#include <cstdint>
#include <vector>

#include "kernels/embedding.cuh"
#include "kernels/gpu_test_support.hpp"

namespace wk = warden::kernels;
using namespace warden::kernels::test;

TEST_CASE("embedding_gather copies rows by id and zeroes out-of-range ids", "[gpu][embedding]") {
  const std::pair<int32_t, int32_t> shapes[] = {{1000, 896}, {37, 13}, {5, 8}, {151, 7168}, {3, 1}};
  uint64_t seed = 1;
  for (const auto& [vocab, hidden] : shapes) {
    DYNAMIC_SECTION("vocab " << vocab << " hidden " << hidden) {
      const std::vector<float> table = random_floats(size_t(vocab) * hidden, seed++, -1.0f, 1.0f);
      TestRng rng(seed++);
      std::vector<int32_t> ids;
      for (int i = 0; i < 45; ++i) ids.push_back(rng.below(vocab));
      ids.push_back(0);
      ids.push_back(vocab - 1);
      ids.push_back(-1);      // bad ids: zero rows
      ids.push_back(vocab);
      ids.push_back(ids[3]);  // a repeated id
      const int32_t n = int32_t(ids.size());
      DeviceBuffer<bf16> dtable(to_bf16(table)), dout(size_t(n) * hidden);
      DeviceBuffer<int32_t> dids(ids);
      dout.fill_bytes(0xff);
      wk::embedding_gather(dtable.get(), vocab, hidden, dids.get(), n, dout.get(), nullptr);
      sync_and_check();
      const std::vector<float> got = from_bf16(dout.download());
      size_t bad = 0;
      for (int32_t t = 0; t < n; ++t) {
        const int32_t id = ids[size_t(t)];
        for (int32_t e = 0; e < hidden; ++e) {
          const float want = (id >= 0 && id < vocab) ? table[size_t(id) * hidden + e] : 0.0f;
          const float g = got[size_t(t) * hidden + e];
          bad += !(g == want);  // NaN (never written) counts as wrong
        }
      }
      CHECK(bad == 0u);
    }
  }
}
