// Layout oracle for io.vineyard.client.types.Hashmap (not part of the build).
//
// Builds a ska::flat_hash_map the way vineyard's HashmapBuilder<K,V> does (emplace/operator[] in
// order, optional reserve, then shrink_to_fit()) and prints what HashmapBuilder::Build would store:
// num_slots_minus_one_, max_lookups_, the entry count and a checksum of the entries, or the raw
// entry bytes. The table code is Malte Skarupke's flat_hash_map as shipped by PyTorch (c10), a copy
// independent of our Java port; the hasher is vineyard's default prime_number_hash_wy<K>
// (thirdparty/wyhash/wyhash.hpp, default secret), re-typed below, with ska's prime policy.
//
//   g++ -O1 -std=c++17 -I$(python3 -c 'import torch,os;print(os.path.dirname(torch.__file__))')/include \
//       hashmap_oracle.cc -o /tmp/hashmap_oracle
//   /tmp/hashmap_oracle i64 i64 seq 1000 [reserve R]      keys 0..N-1, value = 3*i+1
//   /tmp/hashmap_oracle i32 f64 rand 5000 SEED [reserve R] keys from splitmix64(SEED), value = i
//   /tmp/hashmap_oracle i64 i64 list 1 2 3                 keys as given, value = 3*i+1
//   /tmp/hashmap_oracle i64 i64 stride 300 1009 [reserve R]  keys i*STRIDE (clustered), value = 3*i+1
//   add "raw" as the first argument to dump the entry bytes in hex too; then "std" for std::hash<K>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iterator>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>
#define private public  // read the table's entries, num_slots_minus_one and max_lookups
#include <c10/util/flat_hash_map.h>
#undef private

static const uint64_t P0 = 0xa0761d6478bd642full, P1 = 0xe7037ed1a0b428dbull;
static const uint64_t S0 = P0, S1 = P1;  // wy::internal::hash_imp default secret[0], secret[1]

static inline void wymum(uint64_t* a, uint64_t* b) {
  __uint128_t r = *a;
  r *= *b;
  *a = (uint64_t)r;
  *b = (uint64_t)(r >> 64);
}
static inline uint64_t wymix(uint64_t a, uint64_t b) {
  wymum(&a, &b);
  return a ^ b;
}
static inline uint64_t wyhash64(uint64_t a, uint64_t b) {
  a ^= P0;
  b ^= P1;
  wymum(&a, &b);
  return wymix(a ^ P0, b ^ P1);
}
static inline uint64_t r4(const uint8_t* p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}
// hash_imp::wyhash(data, len) for 4 <= len <= 16
static inline uint64_t wyhash_bytes(const uint8_t* p, size_t len) {
  uint64_t seed = S0;
  uint64_t a = (r4(p) << 32) | r4(p + ((len >> 3) << 2));
  uint64_t b = (r4(p + len - 4) << 32) | r4(p + len - 4 - ((len >> 3) << 2));
  return wymix(S1 ^ len, wymix(a ^ S1, b ^ seed));
}

static bool std_hash = false;  // prime_number_hash<K>: std::hash<K>, libstdc++'s static_cast<size_t>(k)

template <typename K>
struct WyHash {
  typedef ska::prime_number_hash_policy hash_policy;
  size_t operator()(const K& k) const {
    if (std_hash) return std::hash<K>()(k);
    if (sizeof(K) == 8) return wyhash64((uint64_t)k, S0);  // wy::hash<int64_t/uint64_t>
    return wyhash_bytes(reinterpret_cast<const uint8_t*>(&k), sizeof(K));  // generic wy::hash<T>
  }
};

static uint64_t splitmix64(uint64_t* s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static bool raw = false;

template <typename K, typename V>
int run(int argc, char** argv, int i) {
  ska::flat_hash_map<K, V, WyHash<K>> m;
  std::vector<uint64_t> keys;
  std::string gen = argv[i++];
  if (gen == "seq") {
    long n = atol(argv[i++]);
    for (long j = 0; j < n; j++) keys.push_back((uint64_t)j);
  } else if (gen == "stride") {
    long n = atol(argv[i++]);
    long stride = atol(argv[i++]);
    for (long j = 0; j < n; j++) keys.push_back((uint64_t)(j * stride));
  } else if (gen == "rand") {
    long n = atol(argv[i++]);
    uint64_t s = strtoull(argv[i++], nullptr, 10);
    for (long j = 0; j < n; j++) keys.push_back(splitmix64(&s));
  } else {
    while (i < argc && std::string(argv[i]) != "reserve") keys.push_back((uint64_t)strtoll(argv[i++], nullptr, 10));
  }
  if (i + 1 < argc && std::string(argv[i]) == "reserve") m.reserve(atol(argv[i + 1]));
  for (size_t j = 0; j < keys.size(); j++) {
    V v = gen == "rand" ? (V)j : (V)(3 * j + 1);
    m[(K)keys[j]] = v;
  }
  m.shrink_to_fit();  // what HashmapBuilder::Build does first
  size_t count = m.num_slots_minus_one + m.max_lookups + 1;  // entry_size in HashmapBuilder::Build
  using Entry = ska::detailv3::sherwood_v3_entry<std::pair<K, V>>;
  using Pair = std::pair<K, V>;
  printf("entry_bytes=%zu key_offset=%zu value_offset=%zu\n", sizeof(Entry), offsetof(Entry, value),
         offsetof(Entry, value) + offsetof(Pair, second));
  printf("num_slots_minus_one=%zu max_lookups=%d num_elements=%zu entries=%zu\n", (size_t)m.num_slots_minus_one,
         (int)m.max_lookups, (size_t)m.size(), count);
  const uint8_t* base = reinterpret_cast<const uint8_t*>(m.entries);
  if (raw) {
    for (size_t j = 0; j < count * sizeof(Entry); j++) printf("%02x", base[j]);
    printf("\n");
  }
  // FNV-1a 64 over, per entry: the distance byte, then key and value bytes for entries that hold one
  uint64_t h = 0xcbf29ce484222325ull;
  auto eat = [&](const void* p, size_t n) {
    for (size_t j = 0; j < n; j++) h = (h ^ ((const uint8_t*)p)[j]) * 0x100000001b3ull;
  };
  for (size_t j = 0; j < count; j++) {
    const Entry& e = m.entries[j];
    eat(&e.distance_from_desired, 1);
    if (e.distance_from_desired >= 0 && j != count - 1) {
      eat(&e.value.first, sizeof(K));
      eat(&e.value.second, sizeof(V));
    }
  }
  printf("checksum=%016llx\n", (unsigned long long)h);
  for (size_t j = 0; j < keys.size() && j < 16; j++) {
    auto it = m.find((K)keys[j]);
    printf("key %lld hash %016llx slot %td\n", (long long)(K)keys[j], (unsigned long long)WyHash<K>()((K)keys[j]),
           it.current - m.entries);
  }
  return 0;
}

template <typename K>
int runK(const std::string& v, int argc, char** argv, int i) {
  if (v == "i32") return run<K, int32_t>(argc, argv, i);
  if (v == "i64") return run<K, int64_t>(argc, argv, i);
  if (v == "u64") return run<K, uint64_t>(argc, argv, i);
  if (v == "f64") return run<K, double>(argc, argv, i);
  return 2;
}

int main(int argc, char** argv) {
  int i = 1;
  if (std::string(argv[i]) == "raw") raw = true, i++;
  if (std::string(argv[i]) == "std") std_hash = true, i++;
  std::string k = argv[i++], v = argv[i++];
  if (k == "i32") return runK<int32_t>(v, argc, argv, i);
  if (k == "u32") return runK<uint32_t>(v, argc, argv, i);
  if (k == "i64") return runK<int64_t>(v, argc, argv, i);
  if (k == "u64") return runK<uint64_t>(v, argc, argv, i);
  return 2;
}
