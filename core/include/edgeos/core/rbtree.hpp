// Intrusive red-black tree with a cached minimum.
//
// Used wherever core needs an ordered set with O(log n) insert and remove-anywhere and O(1)
// access to the minimum: the EDF ready queue (keyed by absolute deadline) and the per-CPU timer
// queue (keyed by expiry). Worst-case bounds matter in a kernel, so this is a balanced tree
// rather than a heap with amortised bounds; it needs no array, so capacity is never an issue.
// The balancing follows Cormen, Leiserson, Rivest & Stein, "Introduction to Algorithms", ch. 13,
// with null leaves instead of a sentinel node.
#pragma once

#include "edgeos/core/base.hpp"

namespace edgeos {

struct RbNode {
  RbNode* parent = nullptr;
  RbNode* left = nullptr;
  RbNode* right = nullptr;
  bool red = false;
  bool in_tree = false;

  bool linked() const { return in_tree; }
};

// The untyped algorithms; the typed tree below only adds the ordering.
namespace rb {
// Rebalances after `n` was linked as a leaf.
void insert_fixup(RbNode*& root, RbNode* n);
// Unlinks `n` and rebalances.
void erase(RbNode*& root, RbNode* n);
// In-order first node of a subtree, and in-order successor; nullptr at the end.
RbNode* first(RbNode* subtree);
RbNode* next(RbNode* n);
// Checks colours, parent links and equal black heights. Returns the black height, or -1.
int check_structure(const RbNode* root);
}  // namespace rb

// `T` derives from `RbNode`. `Less` is a strict weak order on T; equal elements keep insertion
// order (a new element goes after its equals), which keeps ties deterministic.
template <class T, class Less>
class RbTree {
  static_assert(std::is_base_of_v<RbNode, T>);

 public:
  RbTree() = default;
  RbTree(const RbTree&) = delete;
  RbTree& operator=(const RbTree&) = delete;

  bool empty() const { return root_ == nullptr; }
  size_t size() const { return size_; }
  T* min() const { return static_cast<T*>(min_); }

  void insert(T& n) {
    EDGEOS_ASSERT(!n.linked());
    RbNode* parent = nullptr;
    RbNode** link = &root_;
    bool leftmost = true;
    while (*link != nullptr) {
      parent = *link;
      if (Less{}(n, *static_cast<T*>(parent))) {
        link = &parent->left;
      } else {
        link = &parent->right;
        leftmost = false;
      }
    }
    n.parent = parent;
    n.left = n.right = nullptr;
    n.in_tree = true;
    *link = &n;
    if (leftmost) min_ = &n;
    rb::insert_fixup(root_, &n);
    ++size_;
  }

  void erase(T& n) {
    EDGEOS_ASSERT(n.linked());
    if (min_ == &n) min_ = rb::next(&n);
    rb::erase(root_, &n);
    --size_;
  }

  T* pop_min() {
    T* n = min();
    if (n != nullptr) erase(*n);
    return n;
  }

  // In-order traversal: for (T* n = first(); n; n = next(*n)).
  T* first() const { return min(); }
  T* next(const T& n) const { return static_cast<T*>(rb::next(const_cast<T*>(&n))); }

  // Full structural and ordering check, O(n). For invariant checkers and tests.
  bool check() const {
    if (root_ != nullptr && (root_->red || root_->parent != nullptr)) return false;
    if (rb::check_structure(root_) < 0) return false;
    if (min_ != rb::first(root_)) return false;
    size_t count = 0;
    const T* prev = nullptr;
    for (T* n = first(); n != nullptr; n = next(*n)) {
      if (prev != nullptr && Less{}(*n, *prev)) return false;
      prev = n;
      ++count;
    }
    return count == size_;
  }

 private:
  RbNode* root_ = nullptr;
  RbNode* min_ = nullptr;
  size_t size_ = 0;
};

}  // namespace edgeos
