// The intrusive red-black tree against std::multiset (a second implementation) over random
// operation sequences, with the full structural check after every operation.
#include "edgeos/core/rbtree.hpp"

#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "edgeos/core/rng.hpp"

namespace edgeos {
namespace {

struct Node : RbNode {
  int key = 0;
  int id = 0;
};

struct NodeLess {
  bool operator()(const Node& a, const Node& b) const { return a.key < b.key; }
};

TEST(RbTree, EmptyTree) {
  RbTree<Node, NodeLess> t;
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.min(), nullptr);
  EXPECT_EQ(t.pop_min(), nullptr);
  EXPECT_TRUE(t.check());
}

TEST(RbTree, EqualKeysKeepInsertionOrder) {
  Node n[5];
  RbTree<Node, NodeLess> t;
  for (int i = 0; i < 5; ++i) {
    n[i].key = 7;
    n[i].id = i;
    t.insert(n[i]);
  }
  for (int i = 0; i < 5; ++i) EXPECT_EQ(t.pop_min()->id, i);
}

TEST(RbTree, MatchesMultisetOnRandomOperations) {
  constexpr int kNodes = 512;
  std::vector<Node> nodes(kNodes);
  for (int i = 0; i < kNodes; ++i) nodes[i].id = i;
  RbTree<Node, NodeLess> tree;
  std::multiset<std::pair<int, int>> model;  // (key, insertion sequence) mirrors the tie order
  std::vector<int> seq_of(kNodes, 0);
  int seq = 0;
  Rng rng(42);
  for (int step = 0; step < 100'000; ++step) {
    Node& n = nodes[rng.below(kNodes)];
    const uint64_t op = rng.below(10);
    if (!n.linked() && op < 6) {
      n.key = static_cast<int>(rng.below(200));
      seq_of[n.id] = seq++;
      tree.insert(n);
      model.insert({n.key, seq_of[n.id]});
    } else if (n.linked() && op < 8) {
      tree.erase(n);
      model.erase(model.find({n.key, seq_of[n.id]}));
    } else if (op >= 8 && !model.empty()) {
      Node* m = tree.pop_min();
      ASSERT_NE(m, nullptr);
      EXPECT_EQ(std::make_pair(m->key, seq_of[m->id]), *model.begin());
      model.erase(model.begin());
    }
    ASSERT_EQ(tree.size(), model.size());
    if (!model.empty()) {
      ASSERT_EQ(tree.min()->key, model.begin()->first);
      ASSERT_EQ(seq_of[tree.min()->id], model.begin()->second);
    }
    if (step % 64 == 0) {
      ASSERT_TRUE(tree.check()) << "step " << step;
    }
  }
  // In-order traversal equals the model's order.
  auto it = model.begin();
  for (Node* n = tree.first(); n != nullptr; n = tree.next(*n), ++it) {
    ASSERT_EQ(std::make_pair(n->key, seq_of[n->id]), *it);
  }
  EXPECT_EQ(it, model.end());
}

}  // namespace
}  // namespace edgeos
