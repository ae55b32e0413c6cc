#include "core/arena.h"

#include <gtest/gtest.h>

#include <cstring>

namespace accel {
namespace {

float* Floats(Arena& arena, int64_t n) {
  auto t = arena.Allocate(DType::kF32, {n});
  EXPECT_TRUE(t.ok());
  return t.ok() ? t->data<float>() : nullptr;
}

TEST(Arena, RewindHandsOutTheSameMemoryAgainAndKeepsWhatCameBefore) {
  Arena arena(4096);
  float* kept = Floats(arena, 100);
  for (int i = 0; i < 100; ++i) kept[i] = float(i);
  const Arena::Mark m = arena.mark();
  float* first = Floats(arena, 200);
  std::memset(first, 0xff, 200 * sizeof(float));
  arena.Rewind(m);
  EXPECT_EQ(Floats(arena, 200), first);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(kept[i], float(i));
}

TEST(Arena, RewindAcrossBlocksReusesTheSpareBlocks) {
  Arena arena(4096);
  Floats(arena, 512);  // half the first block
  const Arena::Mark m = arena.mark();
  float* big = Floats(arena, 4096);  // spills into a second block
  const size_t capacity = arena.capacity();
  EXPECT_GT(capacity, size_t{4096});
  for (int layer = 0; layer < 5; ++layer) {
    arena.Rewind(m);
    EXPECT_EQ(Floats(arena, 4096), big) << "layer " << layer;
    EXPECT_EQ(arena.capacity(), capacity);
  }
  // A small allocation after the rewind fits in the first block again.
  arena.Rewind(m);
  float* small = Floats(arena, 16);
  EXPECT_NE(small, big);
  EXPECT_EQ(arena.capacity(), capacity);
}

TEST(Arena, MarkOfAnEmptyArenaRewindsToNothingInUse) {
  Arena arena(1024);
  const Arena::Mark m = arena.mark();
  float* a = Floats(arena, 64);
  arena.Rewind(m);
  EXPECT_EQ(Floats(arena, 64), a);
}

TEST(Arena, ResetMakesSpilledBlocksOneAndHighWaterCountsThePeak) {
  Arena arena(1024);
  const Arena::Mark m = arena.mark();
  Floats(arena, 1000);
  Floats(arena, 1000);
  arena.Rewind(m);
  Floats(arena, 10);
  EXPECT_GE(arena.high_water(), 2 * 1000 * sizeof(float));
  const size_t capacity = arena.capacity();
  arena.Reset();
  EXPECT_EQ(arena.capacity(), capacity);
  Floats(arena, 2000);  // fits the single consolidated block: no growth
  EXPECT_EQ(arena.capacity(), capacity);
}

}  // namespace
}  // namespace accel
