// Intrusive circular doubly-linked list. Nodes live inside the objects they link (no allocation,
// O(1) insert and remove anywhere). A type that sits on several lists embeds one node per list;
// each node type derives from `ListNode` and carries a back pointer where needed.
#pragma once

#include "edgeos/core/base.hpp"

namespace edgeos {

struct ListNode {
  ListNode* prev = nullptr;
  ListNode* next = nullptr;

  // A node is on a list exactly when its links are set; `List::remove` clears them.
  bool linked() const { return next != nullptr; }
};

// `T` must derive from `ListNode`. The list does not own its elements. A list refers to itself
// (the sentinel), so it cannot be copied or moved once constructed.
template <class T>
class List {
 public:
  // (T may be incomplete where a List<T> member is declared, so the base-class check lives here.)
  List() { head_.prev = head_.next = &head_; }
  ~List() { static_assert(std::is_base_of_v<ListNode, T>, "list elements derive from ListNode"); }
  List(const List&) = delete;
  List& operator=(const List&) = delete;

  bool empty() const { return head_.next == &head_; }
  size_t size() const { return size_; }

  T* front() const { return empty() ? nullptr : static_cast<T*>(head_.next); }
  T* back() const { return empty() ? nullptr : static_cast<T*>(head_.prev); }

  void push_back(T& n) { insert_before(&head_, &n); }
  void push_front(T& n) { insert_before(head_.next, &n); }

  void remove(T& n) {
    EDGEOS_ASSERT(n.linked());
    n.prev->next = n.next;
    n.next->prev = n.prev;
    n.prev = n.next = nullptr;
    --size_;
  }

  T* pop_front() {
    T* n = front();
    if (n != nullptr) remove(*n);
    return n;
  }

  // Next element after `n`, or nullptr at the end.
  T* next(const T& n) const { return n.next == &head_ ? nullptr : static_cast<T*>(n.next); }

  // Calls f(T&) for each element in order. `f` may remove the element it is given.
  template <class F>
  void for_each(F&& f) {
    ListNode* n = head_.next;
    while (n != &head_) {
      ListNode* following = n->next;
      f(*static_cast<T*>(n));
      n = following;
    }
  }
  template <class F>
  void for_each(F&& f) const {
    for (const ListNode* n = head_.next; n != &head_; n = n->next) f(*static_cast<const T*>(n));
  }

 private:
  void insert_before(ListNode* pos, ListNode* n) {
    EDGEOS_ASSERT(!n->linked());
    n->prev = pos->prev;
    n->next = pos;
    pos->prev->next = n;
    pos->prev = n;
    ++size_;
  }

  ListNode head_;
  size_t size_ = 0;
};

}  // namespace edgeos
