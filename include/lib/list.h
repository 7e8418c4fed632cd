/* Intrusive circular doubly-linked lists (the node lives in the object). */
#ifndef TANDEM_LIB_LIST_H
#define TANDEM_LIB_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct list_node {
    struct list_node *prev, *next;
};

// A macro that is a braced initializer, laid out by hand: clang-format 14
// would give it the lines of a block.
// clang-format off
#define LIST_INIT(name) { &(name), &(name) }
// clang-format on
#define list_entry(node, type, member) ((type *)(((char *)(node)) - offsetof(type, member)))

static inline void
list_init(struct list_node *head)
{
    head->prev = head->next = head;
}

static inline bool
list_empty(const struct list_node *head)
{
    return head->next == head;
}

// True if node is on some list (list_remove leaves it pointing at itself).
static inline bool
list_linked(const struct list_node *node)
{
    return node->next != node;
}

static inline void
list_insert_before(struct list_node *pos, struct list_node *node)
{
    node->prev = pos->prev;
    node->next = pos;
    pos->prev->next = node;
    pos->prev = node;
}

static inline void
list_push_back(struct list_node *head, struct list_node *node)
{
    list_insert_before(head, node);
}

static inline void
list_remove(struct list_node *node)
{
    node->prev->next = node->next;
    node->next->prev = node->prev;
    node->prev = node->next = node;
}

// The first node, unlinked, or NULL if the list is empty.
static inline struct list_node *
list_pop_front(struct list_node *head)
{
    if (list_empty(head))
        return NULL;
    struct list_node *n = head->next;
    list_remove(n);
    return n;
}

#define list_for_each(pos, head) \
    for (struct list_node *pos = (head)->next; pos != (head); pos = pos->next)

#endif
