// StopStringFilter: what streaming with stop strings may show, piece by piece.
#include <gtest/gtest.h>

#include "runtime/generation/stop_strings.h"

namespace accel::generation {
namespace {

TEST(StopStringFilter, HoldsBackPrefixesUntilDecided) {
  StopStringFilter f({"\nUser:", "###"});
  EXPECT_EQ(f.Push("Hello"), "Hello");
  EXPECT_EQ(f.Push(" world\nUs"), " world");  // "\nUs" may begin "\nUser:"
  EXPECT_EQ(f.Push("e"), "");                  // "\nUse" still may
  EXPECT_EQ(f.Push("d to"), "\nUsed to");      // ruled out: released whole
  EXPECT_EQ(f.Push(" #"), " ");                // "#" may begin "###"
  EXPECT_EQ(f.Push("# x"), "## x");
  EXPECT_FALSE(f.stopped());
  EXPECT_EQ(f.Push("\nUser: next"), "");
  EXPECT_TRUE(f.stopped());
  EXPECT_EQ(f.shown(), "Hello world\nUsed to ## x");
  EXPECT_EQ(f.Push("more"), "");
  EXPECT_EQ(f.Finish(), "");
}

TEST(StopStringFilter, StopInsideOnePieceKeepsTheTextBeforeIt) {
  StopStringFilter f({"END", "STOP"});
  EXPECT_EQ(f.Push("abc STOP def END"), "abc ");  // the earliest stop string wins
  EXPECT_TRUE(f.stopped());
  EXPECT_EQ(f.shown(), "abc ");
}

TEST(StopStringFilter, StopSpanningManyPiecesAndOverlappingPrefixes) {
  StopStringFilter f({"aab"});
  EXPECT_EQ(f.Push("xa"), "x");
  EXPECT_EQ(f.Push("a"), "");   // "aa" held
  EXPECT_EQ(f.Push("a"), "a");  // "aaa": the first a can no longer start "aab"; "aa" held
  EXPECT_EQ(f.Push("b"), "");
  EXPECT_TRUE(f.stopped());
  EXPECT_EQ(f.shown(), "xa");
}

TEST(StopStringFilter, FinishReleasesTheTailAndEmptyStopsAreIgnored) {
  StopStringFilter f({"", "<|end|>"});
  EXPECT_EQ(f.Push("answer <|e"), "answer ");
  EXPECT_EQ(f.Finish(), "<|e");
  EXPECT_EQ(f.shown(), "answer <|e");
  StopStringFilter none({});
  EXPECT_EQ(none.Push("anything"), "anything");
}

}  // namespace
}  // namespace accel::generation
