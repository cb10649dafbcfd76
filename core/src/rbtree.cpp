// Red-black tree balancing (CLRS ch. 13, with null leaves). See rbtree.hpp.
#include "edgeos/core/rbtree.hpp"

namespace edgeos::rb {
namespace {

bool is_red(const RbNode* n) { return n != nullptr && n->red; }

void rotate_left(RbNode*& root, RbNode* x) {
  RbNode* y = x->right;
  x->right = y->left;
  if (y->left != nullptr) y->left->parent = x;
  y->parent = x->parent;
  if (x->parent == nullptr) {
    root = y;
  } else if (x == x->parent->left) {
    x->parent->left = y;
  } else {
    x->parent->right = y;
  }
  y->left = x;
  x->parent = y;
}

void rotate_right(RbNode*& root, RbNode* x) {
  RbNode* y = x->left;
  x->left = y->right;
  if (y->right != nullptr) y->right->parent = x;
  y->parent = x->parent;
  if (x->parent == nullptr) {
    root = y;
  } else if (x == x->parent->right) {
    x->parent->right = y;
  } else {
    x->parent->left = y;
  }
  y->right = x;
  x->parent = y;
}

// Replaces the subtree rooted at u by the one rooted at v (v may be null).
void transplant(RbNode*& root, RbNode* u, RbNode* v) {
  if (u->parent == nullptr) {
    root = v;
  } else if (u == u->parent->left) {
    u->parent->left = v;
  } else {
    u->parent->right = v;
  }
  if (v != nullptr) v->parent = u->parent;
}

// Restores the black-height property after removing a black node. `x` (possibly null) carries
// the "extra black"; `parent` is its parent, needed because x may be a null leaf.
void erase_fixup(RbNode*& root, RbNode* x, RbNode* parent) {
  while (x != root && !is_red(x)) {
    if (x == parent->left) {
      RbNode* w = parent->right;
      if (is_red(w)) {
        w->red = false;
        parent->red = true;
        rotate_left(root, parent);
        w = parent->right;
      }
      if (!is_red(w->left) && !is_red(w->right)) {
        w->red = true;
        x = parent;
        parent = x->parent;
      } else {
        if (!is_red(w->right)) {
          w->left->red = false;
          w->red = true;
          rotate_right(root, w);
          w = parent->right;
        }
        w->red = parent->red;
        parent->red = false;
        if (w->right != nullptr) w->right->red = false;
        rotate_left(root, parent);
        x = root;
        parent = nullptr;
      }
    } else {
      RbNode* w = parent->left;
      if (is_red(w)) {
        w->red = false;
        parent->red = true;
        rotate_right(root, parent);
        w = parent->left;
      }
      if (!is_red(w->left) && !is_red(w->right)) {
        w->red = true;
        x = parent;
        parent = x->parent;
      } else {
        if (!is_red(w->left)) {
          w->right->red = false;
          w->red = true;
          rotate_left(root, w);
          w = parent->left;
        }
        w->red = parent->red;
        parent->red = false;
        if (w->left != nullptr) w->left->red = false;
        rotate_right(root, parent);
        x = root;
        parent = nullptr;
      }
    }
  }
  if (x != nullptr) x->red = false;
}

}  // namespace

void insert_fixup(RbNode*& root, RbNode* z) {
  z->red = true;
  while (is_red(z->parent)) {
    RbNode* p = z->parent;
    RbNode* g = p->parent;  // exists: a red node is never the root
    if (p == g->left) {
      RbNode* uncle = g->right;
      if (is_red(uncle)) {
        p->red = false;
        uncle->red = false;
        g->red = true;
        z = g;
      } else {
        if (z == p->right) {
          z = p;
          rotate_left(root, z);
          p = z->parent;
        }
        p->red = false;
        g->red = true;
        rotate_right(root, g);
      }
    } else {
      RbNode* uncle = g->left;
      if (is_red(uncle)) {
        p->red = false;
        uncle->red = false;
        g->red = true;
        z = g;
      } else {
        if (z == p->left) {
          z = p;
          rotate_right(root, z);
          p = z->parent;
        }
        p->red = false;
        g->red = true;
        rotate_left(root, g);
      }
    }
  }
  root->red = false;
}

void erase(RbNode*& root, RbNode* z) {
  RbNode* y = z;
  bool removed_red = y->red;
  RbNode* x = nullptr;
  RbNode* x_parent = nullptr;
  if (z->left == nullptr) {
    x = z->right;
    x_parent = z->parent;
    transplant(root, z, z->right);
  } else if (z->right == nullptr) {
    x = z->left;
    x_parent = z->parent;
    transplant(root, z, z->left);
  } else {
    y = first(z->right);
    removed_red = y->red;
    x = y->right;
    if (y->parent == z) {
      x_parent = y;
    } else {
      x_parent = y->parent;
      transplant(root, y, y->right);
      y->right = z->right;
      y->right->parent = y;
    }
    transplant(root, z, y);
    y->left = z->left;
    y->left->parent = y;
    y->red = z->red;
  }
  if (!removed_red) erase_fixup(root, x, x_parent);
  z->parent = z->left = z->right = nullptr;
  z->red = false;
  z->in_tree = false;
}

RbNode* first(RbNode* n) {
  if (n == nullptr) return nullptr;
  while (n->left != nullptr) n = n->left;
  return n;
}

RbNode* next(RbNode* n) {
  if (n->right != nullptr) return first(n->right);
  RbNode* p = n->parent;
  while (p != nullptr && n == p->right) {
    n = p;
    p = p->parent;
  }
  return p;
}

int check_structure(const RbNode* n) {
  if (n == nullptr) return 1;
  if (!n->in_tree) return -1;
  if (n->red && (is_red(n->left) || is_red(n->right))) return -1;
  if (n->left != nullptr && n->left->parent != n) return -1;
  if (n->right != nullptr && n->right->parent != n) return -1;
  const int lh = check_structure(n->left);
  const int rh = check_structure(n->right);
  if (lh < 0 || rh < 0 || lh != rh) return -1;
  return lh + (n->red ? 0 : 1);
}

}  // namespace edgeos::rb
