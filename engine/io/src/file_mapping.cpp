// Memory-mapped volumes (file_mapping.h) and the SIGBUS handler that keeps a
// file shrinking under a mapping from killing the process.
//
// The handler must be async-signal-safe: it only scans a fixed table of
// atomics and calls mmap (a plain system call). A fault inside a registered
// mapping gets anonymous zero pages from the faulting page to the mapping's
// end (MAP_FIXED), so the access is retried and the pass finishes reading
// zeros; the slot is marked damaged and check_unchanged() throws afterwards.
#include "masklens/io/file_mapping.h"

#include "io_common.h"
#include "masklens/engine/error.h"

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace masklens::io {

namespace {

std::atomic<FileMapping> mapping_mode{FileMapping::Off};
std::atomic<std::uint64_t> mappings_counted{0};

// Below this, copying costs less than setting up a mapping.
constexpr std::uint64_t kMapFrom = std::uint64_t{4} << 20;

class Mapping;

// One registered mapping; begin == 0 marks a free slot.
struct Slot {
    std::atomic<bool> used{false};
    std::atomic<std::uintptr_t> begin{0};
    std::atomic<std::uintptr_t> end{0};
    std::atomic<bool> damaged{false};
    std::atomic<const Mapping*> owner{nullptr};
};
// Volumes mapped at once (a folder run holds a few pairs); when all are in
// use, a reader copies instead.
constexpr std::size_t kSlots = 256;
std::array<Slot, kSlots> slots;

struct sigaction previous_action {};
std::uintptr_t page_size = 4096;
std::once_flag install_once;
bool handler_installed = false;

void on_sigbus(int signal, siginfo_t* info, void* context)
{
    const auto address = reinterpret_cast<std::uintptr_t>(info ? info->si_addr : nullptr);
    for (Slot& slot : slots) {
        const std::uintptr_t begin = slot.begin.load(std::memory_order_acquire);
        const std::uintptr_t end = slot.end.load(std::memory_order_acquire);
        if (begin != 0 && address >= begin && address < end) {
            const std::uintptr_t page = address & ~(page_size - 1);
            void* zeros = ::mmap(reinterpret_cast<void*>(page), end - page, PROT_READ,
                                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
            if (zeros != MAP_FAILED) {
                slot.damaged.store(true, std::memory_order_release);
                return; // the faulting access is retried and reads zeros
            }
            break;
        }
    }
    // Not ours: whatever handled SIGBUS before.
    if ((previous_action.sa_flags & SA_SIGINFO) != 0 && previous_action.sa_sigaction != nullptr) {
        previous_action.sa_sigaction(signal, info, context);
        return;
    }
    if (previous_action.sa_handler != SIG_DFL && previous_action.sa_handler != SIG_IGN &&
        previous_action.sa_handler != nullptr) {
        previous_action.sa_handler(signal);
        return;
    }
    // The default action: terminate with SIGBUS, as without this handler
    // (the pending signal is delivered when the handler returns; a hardware
    // fault would also recur on the retried access).
    struct sigaction fallback {};
    fallback.sa_handler = SIG_DFL;
    sigemptyset(&fallback.sa_mask);
    ::sigaction(signal, &fallback, nullptr);
    ::raise(signal);
}

void install_handler()
{
    std::call_once(install_once, [] {
        const long size = ::sysconf(_SC_PAGESIZE);
        if (size > 0) {
            page_size = static_cast<std::uintptr_t>(size);
        }
        struct sigaction action {};
        action.sa_sigaction = on_sigbus;
        action.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&action.sa_mask);
        handler_installed = ::sigaction(SIGBUS, &action, &previous_action) == 0;
    });
}

std::int64_t mtime_ns(const struct stat& info)
{
    return static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec;
}

// A file's bytes mapped read-only, registered with the SIGBUS handler for
// as long as it lives (the keep-alive of the view Volume).
class Mapping {
public:
    Mapping(std::string path, int descriptor, void* base, std::size_t length, Slot& slot, std::int64_t size,
            std::int64_t mtime)
        : path_(std::move(path)), descriptor_(descriptor), base_(base), length_(length), slot_(slot),
          size_(size), mtime_(mtime)
    {
        const auto begin = reinterpret_cast<std::uintptr_t>(base);
        slot_.owner.store(this, std::memory_order_release);
        slot_.damaged.store(false, std::memory_order_release);
        slot_.end.store(begin + length, std::memory_order_release);
        slot_.begin.store(begin, std::memory_order_release);
    }
    ~Mapping()
    {
        slot_.begin.store(0, std::memory_order_release);
        slot_.end.store(0, std::memory_order_release);
        ::munmap(base_, length_);
        ::close(descriptor_);
        slot_.owner.store(nullptr, std::memory_order_release);
        slot_.used.store(false, std::memory_order_release);
    }
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;

    void check() const
    {
        struct stat now {};
        const bool stat_ok = ::fstat(descriptor_, &now) == 0;
        const bool changed = stat_ok && (now.st_size != size_ || mtime_ns(now) != mtime_);
        if (slot_.damaged.load(std::memory_order_acquire) || changed) {
            std::string detail = " (" + std::to_string(size_) + " bytes when opened";
            detail += stat_ok ? ", " + std::to_string(now.st_size) + " bytes now)" : ")";
            throw_input_error(path_, "the file changed or shrank while it was read" + detail);
        }
    }

private:
    std::string path_;
    int descriptor_;
    void* base_;
    std::size_t length_;
    Slot& slot_;
    std::int64_t size_;
    std::int64_t mtime_;
};

Slot* claim_slot()
{
    for (Slot& slot : slots) {
        bool expected = false;
        if (slot.used.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) {
            return &slot;
        }
    }
    return nullptr;
}

const Slot* slot_of(const Volume& volume)
{
    const auto address = reinterpret_cast<std::uintptr_t>(volume.data());
    if (!volume.is_view() || address == 0) {
        return nullptr;
    }
    for (const Slot& slot : slots) {
        const std::uintptr_t begin = slot.begin.load(std::memory_order_acquire);
        if (begin != 0 && address >= begin && address < slot.end.load(std::memory_order_acquire)) {
            return &slot;
        }
    }
    return nullptr;
}

} // namespace

void set_file_mapping(FileMapping mode)
{
    mapping_mode.store(mode);
}

FileMapping file_mapping()
{
    return mapping_mode.load();
}

std::uint64_t mappings_made()
{
    return mappings_counted.load(std::memory_order_relaxed);
}

void check_unchanged(const Volume& volume)
{
    if (const Slot* slot = slot_of(volume)) {
        if (const Mapping* owner = slot->owner.load(std::memory_order_acquire)) {
            owner->check();
        }
    }
}

bool is_mapped(const Volume& volume)
{
    return slot_of(volume) != nullptr;
}

namespace {

// How a mapping's pages come in: all at once (the pass then runs without
// page faults on all its threads), or as they are first read (an inflate
// reads its input on one thread and slowly: mapping every page first would
// add that time before it starts, while faults spread over it cost less).
enum class Populate { Now, OnFirstRead };

// The `bytes` bytes at `offset` of `file` mapped read-only and registered
// with the SIGBUS handler: the mapping and the address of the first byte, or
// std::nullopt (no handler, no slot, the file changed since it was opened,
// mmap failed).
std::optional<std::pair<std::shared_ptr<const Mapping>, const std::byte*>>
map_range(const detail::File& file, std::uint64_t offset, std::uint64_t bytes, Populate populate)
{
    install_handler();
    if (!handler_installed) {
        return std::nullopt;
    }
    const int descriptor = ::fcntl(::fileno(file.get()), F_DUPFD_CLOEXEC, 0);
    if (descriptor < 0) {
        return std::nullopt;
    }
    struct stat info {};
    // The file must still be the one the header was read from.
    if (::fstat(descriptor, &info) != 0 || static_cast<std::uint64_t>(info.st_size) != file.size() ||
        mtime_ns(info) != file.opened_mtime_ns()) {
        ::close(descriptor);
        return std::nullopt;
    }
    Slot* slot = claim_slot();
    if (!slot) {
        ::close(descriptor);
        return std::nullopt;
    }
    const std::uint64_t start = offset / page_size * page_size;
    const auto length = static_cast<std::size_t>(offset + bytes - start);
    // MAP_POPULATE maps the cached pages now, in one system call, instead of
    // page faults during the pass (docs/benchmarks.md: the same time here).
    const int flags = MAP_PRIVATE | (populate == Populate::Now ? MAP_POPULATE : 0);
    void* base = ::mmap(nullptr, length, PROT_READ, flags, descriptor, static_cast<off_t>(start));
    if (base == MAP_FAILED) {
        slot->used.store(false, std::memory_order_release);
        ::close(descriptor);
        return std::nullopt;
    }
    ::madvise(base, length, MADV_SEQUENTIAL);
    mappings_counted.fetch_add(1, std::memory_order_relaxed);
    std::shared_ptr<const Mapping> mapping;
    try {
        mapping = std::make_shared<const Mapping>(file.path(), descriptor, base, length, *slot,
                                                  static_cast<std::int64_t>(info.st_size), mtime_ns(info));
    } catch (...) {
        ::munmap(base, length);
        slot->used.store(false, std::memory_order_release);
        ::close(descriptor);
        throw;
    }
    return std::pair{std::move(mapping), static_cast<const std::byte*>(base) + (offset - start)};
}

} // namespace

namespace detail {

std::optional<Volume> map_volume(const File& file, std::uint64_t offset, const std::string& source,
                                 ScalarType type, const Shape& shape)
{
    if (file_mapping() != FileMapping::All) {
        return std::nullopt;
    }
    const std::uint64_t bytes = static_cast<std::uint64_t>(shape.elements()) * scalar_size(type);
    // The engine reads elements at their natural alignment; the mapping
    // starts on a page, so the offset decides it.
    if (bytes < kMapFrom || offset % scalar_size(type) != 0 || offset > file.size() ||
        bytes > file.size() - offset) {
        return std::nullopt;
    }
    // The same refusals as a copy (the memory cap, the memory available):
    // the mapped pages are resident while the pass reads them.
    check_allocation(source, static_cast<std::uint64_t>(shape.elements()), type);
    auto mapped = map_range(file, offset, bytes, Populate::Now);
    if (!mapped) {
        return std::nullopt;
    }
    return Volume::view(source, type, shape, mapped->second, std::move(mapped->first));
}

std::optional<MappedBytes> map_bytes(const File& file, std::uint64_t offset, std::uint64_t length)
{
    if (file_mapping() == FileMapping::Off || length < kMapFrom || offset > file.size() ||
        length > file.size() - offset) {
        return std::nullopt;
    }
    auto mapped = map_range(file, offset, length, Populate::OnFirstRead);
    if (!mapped) {
        return std::nullopt;
    }
    return MappedBytes{std::move(mapped->first), reinterpret_cast<const unsigned char*>(mapped->second)};
}

void MappedBytes::check() const
{
    static_cast<const Mapping*>(owner.get())->check();
}

} // namespace detail

} // namespace masklens::io
