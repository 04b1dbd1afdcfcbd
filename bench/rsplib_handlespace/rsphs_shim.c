/*
 * rsphs_shim.c: a thin C shim over Debian's librsphsmgt.so.3 (RSPLIB 3.4.4), the
 * "_SimpleRedBlackTree" variant of RSPLIB's handlespace management, for the side-by-side
 * benchmark (bench/handlespace_bench.ts) and the differential tests
 * (tests/handlespace/rsplib_differential_test.ts).
 *
 * RSPLIB installs no headers for its handlespace internals, so this file declares the few
 * structures and functions it needs itself. Layouts were worked out by reading RSPLIB's
 * sources (x86-64, LP64) and are checked at run time by rsphs_self_check(); nothing here is
 * RSPLIB code. Part of rserpool-deno, built by bench/rsplib_handlespace/load.ts with gcc.
 */
#include <malloc.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- Declarations (our own; see the note above) ---------------------------------------- */

/* A pool handle as the library takes it: byte count, then up to 32 bytes. */
typedef struct {
  size_t size;
  unsigned char bytes[32];
} rsphs_handle;

/* Policy settings: type code then six 32-bit values. */
typedef struct {
  uint32_t type, weight, load, load_degradation, load_dpf, weight_dpf, distance;
} rsphs_policy;

/* A transport address block with room for one address (the library copies blocks by their
   address count). Addresses are stored as 28-byte socket address unions. */
typedef struct {
  void* next;
  int protocol;
  uint16_t port;
  uint16_t flags;
  size_t count;
  struct sockaddr_in6 addresses[1];
} rsphs_transport;

/* Offsets into the library's pool element node (five 48-byte tree nodes and an owner pointer
   come first). */
enum {
  PE_IDENTIFIER = 248,
  PE_HOME = 256,
  PE_SEQ = 296,
  PE_ROUND = 300,
  PE_VIRTUAL = 304,
  PE_DEGRADATION = 308,
  PE_SELECTIONS = 320,
};

typedef void rsphs_hs; /* opaque handlespace management structure */
typedef void rsphs_pe; /* opaque pool element node */

extern void poolHandlespaceManagementNew_SimpleRedBlackTree(rsphs_hs*, uint32_t, void*, void*,
                                                            void*);
extern void poolHandlespaceManagementDelete_SimpleRedBlackTree(rsphs_hs*);
extern unsigned int poolHandlespaceManagementRegisterPoolElement_SimpleRedBlackTree(
  rsphs_hs*, const rsphs_handle*, uint32_t home, uint32_t id, unsigned int life,
  const rsphs_policy*, const rsphs_transport* user, const rsphs_transport* registrator, int sd,
  int assoc, unsigned long long now, rsphs_pe** out);
extern unsigned int poolHandlespaceManagementDeregisterPoolElement_SimpleRedBlackTree(
  rsphs_hs*, const rsphs_handle*, uint32_t id);
extern unsigned int poolHandlespaceManagementHandleResolution_SimpleRedBlackTree(
  rsphs_hs*, const rsphs_handle*, rsphs_pe** array, size_t* count, size_t maxItems,
  size_t maxIncrement);
extern rsphs_pe* poolHandlespaceManagementFindPoolElement_SimpleRedBlackTree(
  rsphs_hs*, const rsphs_handle*, uint32_t id);
extern uint16_t poolHandlespaceManagementGetHandlespaceChecksum_SimpleRedBlackTree(const rsphs_hs*);
extern uint16_t poolHandlespaceManagementGetOwnershipChecksum_SimpleRedBlackTree(const rsphs_hs*);
extern size_t poolHandlespaceManagementGetPoolElements_SimpleRedBlackTree(const rsphs_hs*);
extern size_t poolHandlespaceManagementGetPools_SimpleRedBlackTree(const rsphs_hs*);

/* ---- Helpers ------------------------------------------------------------------------------ */

#define HS_BYTES 4096 /* more than the management structure needs */
#define MAX_ITEMS 1024

static rsphs_transport user_transport;
static rsphs_transport registrator_transport;
static rsphs_pe* selection[MAX_ITEMS];

static void make_transport(rsphs_transport* t, int protocol, uint16_t port, uint16_t flags,
                           uint32_t ipv4) {
  memset(t, 0, sizeof(*t));
  t->protocol = protocol;
  t->port = port;
  t->flags = flags;
  t->count = 1;
  struct sockaddr_in* in = (struct sockaddr_in*)&t->addresses[0];
  in->sin_family = AF_INET;
  in->sin_port = htons(port);
  in->sin_addr.s_addr = htonl(ipv4);
}

static void make_handle(rsphs_handle* h, const unsigned char* bytes, size_t size) {
  memset(h, 0, sizeof(*h));
  h->size = size;
  memcpy(h->bytes, bytes, size > 32 ? 32 : size);
}

static uint32_t u32_at(const rsphs_pe* pe, size_t offset) {
  uint32_t v;
  memcpy(&v, (const char*)pe + offset, sizeof(v));
  return v;
}

/* ---- API used through Deno FFI ------------------------------------------------------------ */

rsphs_hs* rsphs_new(uint32_t home) {
  rsphs_hs* hs = calloc(1, HS_BYTES);
  if (hs) poolHandlespaceManagementNew_SimpleRedBlackTree(hs, home, NULL, NULL, NULL);
  make_transport(&user_transport, IPPROTO_SCTP, 7, 0, 0xc0000201);
  make_transport(&registrator_transport, IPPROTO_SCTP, 3863, 0, 0xc0000201);
  return hs;
}

void rsphs_free(rsphs_hs* hs) {
  poolHandlespaceManagementDelete_SimpleRedBlackTree(hs);
  free(hs);
}

/* settings: 7 values (type, weight, load, load degradation, load DPF, weight DPF, distance).
   transport: protocol (IPPROTO_*), port, control-channel flag. */
unsigned int rsphs_register(rsphs_hs* hs, const unsigned char* ph, size_t phSize, uint32_t id,
                            uint32_t home, const uint32_t* settings, int protocol, uint32_t port,
                            uint32_t controlChannel, int connection, uint64_t now) {
  rsphs_handle h;
  rsphs_policy p;
  rsphs_transport t;
  rsphs_pe* pe;
  make_handle(&h, ph, phSize);
  memcpy(&p, settings, sizeof(p));
  make_transport(&t, protocol, (uint16_t)port, controlChannel ? 1 : 0, 0xc0000201);
  return poolHandlespaceManagementRegisterPoolElement_SimpleRedBlackTree(
    hs, &h, home, id, 30000, &p, &t, &registrator_transport, connection, connection, now, &pe);
}

unsigned int rsphs_deregister(rsphs_hs* hs, const unsigned char* ph, size_t phSize, uint32_t id) {
  rsphs_handle h;
  make_handle(&h, ph, phSize);
  return poolHandlespaceManagementDeregisterPoolElement_SimpleRedBlackTree(hs, &h, id);
}

/* Writes the selected identifiers to out; returns the count, or -(error code). */
long rsphs_resolve(rsphs_hs* hs, const unsigned char* ph, size_t phSize, size_t maxItems,
                   size_t maxIncrement, uint32_t* out) {
  rsphs_handle h;
  size_t count = 0;
  make_handle(&h, ph, phSize);
  if (maxItems > MAX_ITEMS) maxItems = MAX_ITEMS;
  unsigned int err = poolHandlespaceManagementHandleResolution_SimpleRedBlackTree(
    hs, &h, selection, &count, maxItems, maxIncrement);
  if (err != 0) return -(long)err;
  for (size_t i = 0; i < count; i++) out[i] = u32_at(selection[i], PE_IDENTIFIER);
  return (long)count;
}

/* Selection state of one PE: seq, round, virtual counter, degradation, selections (low 32
   bits), home. Returns 0 when the PE is unknown. */
int rsphs_state(rsphs_hs* hs, const unsigned char* ph, size_t phSize, uint32_t id, uint32_t* out) {
  rsphs_handle h;
  make_handle(&h, ph, phSize);
  rsphs_pe* pe = poolHandlespaceManagementFindPoolElement_SimpleRedBlackTree(hs, &h, id);
  if (pe == NULL) return 0;
  out[0] = u32_at(pe, PE_SEQ);
  out[1] = u32_at(pe, PE_ROUND);
  out[2] = u32_at(pe, PE_VIRTUAL);
  out[3] = u32_at(pe, PE_DEGRADATION);
  out[4] = u32_at(pe, PE_SELECTIONS);
  out[5] = u32_at(pe, PE_HOME);
  return 1;
}

uint32_t rsphs_handlespace_checksum(rsphs_hs* hs) {
  return poolHandlespaceManagementGetHandlespaceChecksum_SimpleRedBlackTree(hs);
}

uint32_t rsphs_ownership_checksum(rsphs_hs* hs) {
  return poolHandlespaceManagementGetOwnershipChecksum_SimpleRedBlackTree(hs);
}

size_t rsphs_pool_elements(rsphs_hs* hs) {
  return poolHandlespaceManagementGetPoolElements_SimpleRedBlackTree(hs);
}

size_t rsphs_pools(rsphs_hs* hs) {
  return poolHandlespaceManagementGetPools_SimpleRedBlackTree(hs);
}

/* Checks the layout assumptions above on a scratch handlespace: 1 when they hold. */
int rsphs_self_check(void) {
  const uint32_t settings[7] = {0x00000001, 0, 0, 0, 0, 0, 0};
  rsphs_hs* hs = rsphs_new(0x1234);
  if (hs == NULL) return 0;
  int ok = rsphs_register(hs, (const unsigned char*)"Check", 5, 0xabcdef01, 0x1234, settings,
                          IPPROTO_SCTP, 7, 0, 0, 1) == 0;
  rsphs_handle h;
  make_handle(&h, (const unsigned char*)"Check", 5);
  rsphs_pe* pe = poolHandlespaceManagementFindPoolElement_SimpleRedBlackTree(hs, &h, 0xabcdef01);
  ok = ok && pe != NULL && u32_at(pe, PE_IDENTIFIER) == 0xabcdef01 &&
       u32_at(pe, PE_HOME) == 0x1234 && rsphs_pool_elements(hs) == 1;
  rsphs_free(hs);
  return ok;
}

/* ---- Batches for the benchmark: the loop runs in C, so no FFI cost is measured ------------ */

/* A benchmark "world": H handlespaces, each with the same P pools of M PEs.
   hsArray: H handlespace pointers. handles: P entries of 33 bytes (size byte, then 32 bytes).
   ids: P*M identifiers (pool p has ids[p*M .. p*M+M-1]). values: P*M per-PE values for
   settings[field] (1 = weight, 2 = load), or NULL. Connection of a PE: 1 + (id & 0xff), as a
   registrar would set it. */
unsigned int rsphs_batch_register(rsphs_hs** hsArray, size_t H, const unsigned char* handles,
                                  size_t P, const uint32_t* ids, size_t M, uint32_t home,
                                  const uint32_t* settings, const uint32_t* values, size_t field,
                                  uint64_t now) {
  rsphs_handle h;
  uint32_t s[7];
  rsphs_policy p;
  rsphs_pe* pe;
  unsigned int failures = 0;
  memcpy(s, settings, sizeof(s));
  if (field > 6) field = 6;
  for (size_t k = 0; k < H; k++) {
    for (size_t j = 0; j < P; j++) {
      const unsigned char* e = handles + 33 * j;
      h.size = e[0];
      memcpy(h.bytes, e + 1, 32);
      for (size_t i = 0; i < M; i++) {
        const uint32_t id = ids[j * M + i];
        if (values) s[field] = values[j * M + i];
        memcpy(&p, s, sizeof(p));
        failures += poolHandlespaceManagementRegisterPoolElement_SimpleRedBlackTree(
                      hsArray[k], &h, home, id, 30000, &p, &user_transport, &registrator_transport,
                      (int)(1 + (id & 0xff)), (int)(1 + (id & 0xff)), now, &pe) != 0;
      }
    }
  }
  return failures;
}

unsigned int rsphs_batch_deregister(rsphs_hs** hsArray, size_t H, const unsigned char* handles,
                                    size_t P, const uint32_t* ids, size_t M) {
  rsphs_handle h;
  unsigned int failures = 0;
  for (size_t k = 0; k < H; k++) {
    for (size_t j = 0; j < P; j++) {
      const unsigned char* e = handles + 33 * j;
      h.size = e[0];
      memcpy(h.bytes, e + 1, 32);
      for (size_t i = 0; i < M; i++) {
        failures += poolHandlespaceManagementDeregisterPoolElement_SimpleRedBlackTree(
                      hsArray[k], &h, ids[j * M + i]) != 0;
      }
    }
  }
  return failures;
}

/* n handle resolutions; resolution i asks handlespace i % H for pool i % P. Returns the number
   of PEs selected in total. */
size_t rsphs_batch_resolve(rsphs_hs** hsArray, size_t H, const unsigned char* handles, size_t P,
                           size_t n, size_t maxItems, size_t maxIncrement) {
  rsphs_handle h;
  size_t total = 0;
  size_t count;
  for (size_t i = 0; i < n; i++) {
    const unsigned char* e = handles + 33 * (i % P);
    h.size = e[0];
    memcpy(h.bytes, e + 1, 32);
    count = 0;
    poolHandlespaceManagementHandleResolution_SimpleRedBlackTree(hsArray[i % H], &h, selection,
                                                                &count, maxItems, maxIncrement);
    total += count;
  }
  return total;
}

/* Bytes currently allocated by malloc (for memory per PE). */
size_t rsphs_heap_in_use(void) {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}
