// Handle tables without user space: numbering, lookup errors, generations,
// exhaustion, derivation and revocation, endpoint reference counts.  The
// processes here are bare structs that own a table; the objects are real
// endpoints, so every close is seen by the objects' counters.
#include "cap.h"
#include "kmalloc.h"
#include "ktest.h"
#include "thread.h"
#include "uapi/errno.h"
#include "uapi/syscall.h"

// A process that is only a handle table.
static struct process *
table_owner(void)
{
    struct process *p = kzalloc(sizeof(*p));
    if (p && cap_table_create(p) != 0) {
        kfree(p);
        return NULL;
    }
    return p;
}

static void
table_owner_free(struct process *p)
{
    cap_table_destroy(p);
    kfree(p);
}

// A new endpoint in p with rights; the handle.
static int32_t
new_endpoint(struct process *p, uint32_t rights)
{
    struct endpoint *ep = endpoint_create();
    return ep ? cap_install(p, &ep->obj, rights, 0, NULL) : -ENOMEM;
}

static struct cap *
slot(struct process *p, int32_t h)
{
    struct cap *c = NULL;
    return cap_lookup(p, h, 0, 0, &c) == 0 ? c : NULL;
}

KTEST(cap, handles_count_from_one_in_a_fresh_table)
{
    struct process *p = table_owner();
    KASSERT_NOT_NULL(p);
    KEXPECT_EQ(new_endpoint(p, CAP_SEND), 1);
    KEXPECT_EQ(new_endpoint(p, CAP_SEND), 2);
    KEXPECT_EQ(new_endpoint(p, CAP_SEND), 3);
    KEXPECT_UEQ(cap_table_room(p), CAPS_PER_PROCESS - 3);
    table_owner_free(p);
}

KTEST(cap, lookup_refuses_what_is_not_an_open_handle_of_the_right_kind)
{
    struct process *p = table_owner();
    KASSERT_NOT_NULL(p);
    int32_t h = new_endpoint(p, CAP_SEND);
    struct cap *c;
    KEXPECT_EQ(cap_lookup(p, h, CAP_TYPE_ENDPOINT, CAP_SEND, &c), 0);
    KEXPECT_EQ(cap_lookup(p, h, CAP_TYPE_ENDPOINT, CAP_RECV, &c), -EPERM);
    KEXPECT_EQ(cap_lookup(p, h, CAP_TYPE_PROCESS, 0, &c), -EBADF);
    KEXPECT_EQ(cap_lookup(p, 0, 0, 0, &c), -EBADF);
    KEXPECT_EQ(cap_lookup(p, -1, 0, 0, &c), -EBADF);
    KEXPECT_EQ(cap_lookup(p, 2, 0, 0, &c), -EBADF);                    // never opened
    KEXPECT_EQ(cap_lookup(p, CAPS_PER_PROCESS + 1, 0, 0, &c), -EBADF); // past the table
    KEXPECT_EQ(cap_lookup(p, 0xFF, 0, 0, &c), -EBADF);
    KEXPECT_EQ(cap_lookup(p, h | (1 << CAP_INDEX_BITS), 0, 0, &c), -EBADF); // a later generation
    table_owner_free(p);
}

KTEST(cap, a_closed_handle_stays_dead_when_its_slot_is_reused)
{
    struct process *p = table_owner();
    KASSERT_NOT_NULL(p);
    int32_t h = new_endpoint(p, CAP_SEND);
    cap_close(slot(p, h));
    KEXPECT_NULL(slot(p, h));
    // Take every free slot: one of them is h's, under a new generation.
    int32_t again = 0;
    for (uint32_t i = 0; i < CAPS_PER_PROCESS; i++) {
        int32_t n = new_endpoint(p, CAP_SEND);
        KASSERT_TRUE(n > 0);
        if ((n & ((1 << CAP_INDEX_BITS) - 1)) == (h & ((1 << CAP_INDEX_BITS) - 1)))
            again = n;
    }
    KEXPECT_NE(again, 0);
    KEXPECT_NE(again, h);
    KEXPECT_NULL(slot(p, h));
    KEXPECT_NOT_NULL(slot(p, again));
    table_owner_free(p);
}

KTEST(cap, a_full_table_says_emfile_and_loses_nothing)
{
    struct process *p = table_owner();
    KASSERT_NOT_NULL(p);
    uint32_t objects = kobject_count();
    for (uint32_t i = 0; i < CAPS_PER_PROCESS; i++)
        KASSERT_TRUE(new_endpoint(p, CAP_SEND) > 0);
    KEXPECT_UEQ(cap_table_room(p), 0);
    struct endpoint *ep = endpoint_create();
    KASSERT_NOT_NULL(ep);
    KEXPECT_EQ(cap_install(p, &ep->obj, CAP_SEND, 0, NULL), -EMFILE);
    KEXPECT_UEQ(ep->obj.refs, 0); // refused: no reference taken
    endpoint_destroy(ep);
    KEXPECT_UEQ(kobject_count(), objects + CAPS_PER_PROCESS);
    table_owner_free(p);
    KEXPECT_UEQ(kobject_count(), objects);
}

KTEST(cap, a_slot_whose_generation_would_wrap_is_retired)
{
    struct process *p = table_owner();
    KASSERT_NOT_NULL(p);
    int32_t h = new_endpoint(p, CAP_SEND);
    struct cap *c = slot(p, h);
    KASSERT_NOT_NULL(c);
    c->gen = CAP_GEN_LIMIT - 1; // as if closed and reused 2^23 - 1 times
    int32_t last = cap_handle(c);
    KEXPECT_GT(last, 0); // the last generation still makes a positive handle
    uint32_t room = cap_table_room(p);
    cap_close(c);
    KEXPECT_UEQ(cap_table_room(p), room); // not back on the free list
    KEXPECT_NULL(slot(p, last));
    table_owner_free(p);
}

KTEST(cap, revoke_closes_every_derived_handle_in_every_table)
{
    struct process *a = table_owner(), *b = table_owner();
    KASSERT_NOT_NULL(a);
    KASSERT_NOT_NULL(b);
    int32_t root = new_endpoint(a, CAP_SEND | CAP_RECV | CAP_GRANT);
    struct cap *r = slot(a, root);
    int32_t child = cap_install(a, r->obj, CAP_SEND, 5, r); // a dup
    int32_t copy = cap_copy(b, slot(a, child));             // passed on to b
    int32_t grandchild = cap_copy(b, slot(b, copy));        // and on from there
    int32_t other = new_endpoint(b, CAP_SEND);              // unrelated
    KEXPECT_EQ(cap_revoke(r), 3);
    KEXPECT_NOT_NULL(slot(a, root)); // revoke spares the handle itself
    KEXPECT_NULL(slot(a, child));
    KEXPECT_NULL(slot(b, copy));
    KEXPECT_NULL(slot(b, grandchild));
    KEXPECT_NOT_NULL(slot(b, other));
    KEXPECT_EQ(cap_revoke(r), 0);
    table_owner_free(a);
    table_owner_free(b);
}

KTEST(cap, closing_a_middle_handle_keeps_its_descendants_revocable)
{
    struct process *p = table_owner();
    KASSERT_NOT_NULL(p);
    int32_t root = new_endpoint(p, CAP_SEND | CAP_RECV);
    int32_t mid = cap_copy(p, slot(p, root));
    int32_t leaf = cap_copy(p, slot(p, mid));
    cap_close(slot(p, mid));
    KEXPECT_PTR_EQ(slot(p, leaf)->parent, slot(p, root));
    KEXPECT_EQ(cap_revoke(slot(p, root)), 1);
    KEXPECT_NULL(slot(p, leaf));
    table_owner_free(p);
}

KTEST(cap, an_endpoint_lives_as_long_as_a_handle_names_it)
{
    struct process *p = table_owner();
    KASSERT_NOT_NULL(p);
    uint32_t endpoints = endpoint_count();
    int32_t h = new_endpoint(p, CAP_SEND | CAP_RECV);
    struct endpoint *ep = (struct endpoint *)slot(p, h)->obj;
    int32_t sender = cap_install(p, &ep->obj, CAP_SEND, 0, NULL);
    int32_t receiver = cap_install(p, &ep->obj, CAP_RECV, 0, NULL);
    KEXPECT_UEQ(ep->obj.refs, 3);
    KEXPECT_UEQ(ep->receive_holders, 2);
    cap_close(slot(p, h));
    KEXPECT_UEQ(ep->receive_holders, 1);
    cap_close(slot(p, receiver));
    KEXPECT_UEQ(ep->receive_holders, 0);
    KEXPECT_UEQ(endpoint_count(), endpoints + 1);
    cap_close(slot(p, sender));
    KEXPECT_UEQ(endpoint_count(), endpoints);
    table_owner_free(p);
}
