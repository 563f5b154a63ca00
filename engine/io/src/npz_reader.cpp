// NumPy .npz reader: a zip archive of .npy entries, each stored or
// deflate-compressed (numpy.savez / numpy.savez_compressed). The zip structure
// is read from the central directory (including ZIP64 records); entries are
// streamed into the Volume without a full-size compressed or inflated copy.
#include "io_common.h"
#include "masklens/engine/error.h"
#include "masklens/io/read_volume.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

namespace masklens::io {

namespace {

std::uint16_t le16(const unsigned char* p)
{
    return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
std::uint32_t le32(const unsigned char* p)
{
    return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
           (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}
std::uint64_t le64(const unsigned char* p)
{
    return static_cast<std::uint64_t>(le32(p)) | (static_cast<std::uint64_t>(le32(p + 4)) << 32);
}

constexpr std::uint32_t kEndOfCentralDirectory = 0x06054b50;
constexpr std::uint32_t kZip64Locator = 0x07064b50;
constexpr std::uint32_t kZip64EndOfCentralDirectory = 0x06064b50;
constexpr std::uint32_t kCentralHeader = 0x02014b50;
constexpr std::uint32_t kLocalHeader = 0x04034b50;

struct Entry {
    std::string name;
    std::uint16_t flags = 0;
    std::uint16_t method = 0;
    std::uint32_t crc = 0;
    std::uint64_t compressed = 0;
    std::uint64_t uncompressed = 0;
    std::uint64_t local_offset = 0;
};

[[noreturn]] void corrupt(const std::string& path, const std::string& what)
{
    throw_input_error(path, "not a valid .npz (zip) file: " + what);
}

std::vector<Entry> read_central_directory(const detail::File& file)
{
    const std::string& path = file.path();
    const std::uint64_t size = file.size();
    if (size < 22) {
        corrupt(path, "too short to hold a zip directory");
    }
    // The end-of-central-directory record is in the last 22 + 65535 bytes.
    const std::uint64_t tail_size = std::min<std::uint64_t>(size, 22 + 65535);
    std::vector<unsigned char> tail(static_cast<std::size_t>(tail_size));
    file.read_at(size - tail_size, tail.data(), tail.size(), "the zip directory");
    std::size_t eocd = std::string::npos;
    for (std::size_t i = tail.size() - 22 + 1; i-- > 0;) {
        if (le32(&tail[i]) == kEndOfCentralDirectory) {
            eocd = i;
            break;
        }
    }
    if (eocd == std::string::npos) {
        unsigned char head[4] = {};
        file.read_at(0, head, 4, "the zip signature");
        if (le32(head) != kLocalHeader) {
            corrupt(path, "bad magic bytes (expected a zip archive written by numpy.savez)");
        }
        corrupt(path, "the end-of-directory record is missing (file truncated?)");
    }
    const std::uint64_t eocd_offset = size - tail_size + eocd;
    std::uint64_t count = le16(&tail[eocd + 10]);
    std::uint64_t directory_size = le32(&tail[eocd + 12]);
    std::uint64_t directory_offset = le32(&tail[eocd + 16]);
    if (count == 0xFFFF || directory_size == 0xFFFFFFFF || directory_offset == 0xFFFFFFFF) {
        if (eocd_offset < 20) {
            corrupt(path, "ZIP64 locator missing");
        }
        unsigned char locator[20];
        file.read_at(eocd_offset - 20, locator, sizeof locator, "the ZIP64 locator");
        if (le32(locator) != kZip64Locator) {
            corrupt(path, "ZIP64 locator missing");
        }
        const std::uint64_t record_offset = le64(locator + 8);
        unsigned char record[56];
        file.read_at(record_offset, record, sizeof record, "the ZIP64 directory record");
        if (le32(record) != kZip64EndOfCentralDirectory) {
            corrupt(path, "bad ZIP64 directory record");
        }
        count = le64(record + 32);
        directory_size = le64(record + 40);
        directory_offset = le64(record + 48);
    }
    if (directory_offset > size || directory_size > size - directory_offset) {
        corrupt(path, "the zip directory lies outside the file (truncated?)");
    }
    if (count > directory_size / 46) {
        corrupt(path, "the zip directory claims more entries than it can hold");
    }
    std::vector<unsigned char> directory(static_cast<std::size_t>(directory_size));
    file.read_at(directory_offset, directory.data(), directory.size(), "the zip directory");

    std::vector<Entry> entries;
    std::size_t pos = 0;
    for (std::uint64_t i = 0; i < count; ++i) {
        if (pos + 46 > directory.size() || le32(&directory[pos]) != kCentralHeader) {
            corrupt(path, "damaged zip directory entry");
        }
        const unsigned char* h = &directory[pos];
        Entry entry;
        entry.flags = le16(h + 8);
        entry.method = le16(h + 10);
        entry.crc = le32(h + 16);
        entry.compressed = le32(h + 20);
        entry.uncompressed = le32(h + 24);
        const std::size_t name_length = le16(h + 28);
        const std::size_t extra_length = le16(h + 30);
        const std::size_t comment_length = le16(h + 32);
        entry.local_offset = le32(h + 42);
        if (pos + 46 + name_length + extra_length + comment_length > directory.size()) {
            corrupt(path, "damaged zip directory entry");
        }
        entry.name.assign(reinterpret_cast<const char*>(h + 46), name_length);
        // ZIP64 extended information: the 64-bit values follow in this order,
        // each present only when its 32-bit field is 0xFFFFFFFF.
        const unsigned char* extra = h + 46 + name_length;
        std::size_t e = 0;
        while (e + 4 <= extra_length) {
            const std::uint16_t id = le16(extra + e);
            const std::uint16_t length = le16(extra + e + 2);
            if (e + 4 + length > extra_length) {
                break;
            }
            if (id == 0x0001) {
                const unsigned char* field = extra + e + 4;
                std::size_t used = 0;
                auto take = [&](std::uint64_t& value) {
                    if (value == 0xFFFFFFFF) {
                        if (used + 8 > length) {
                            corrupt(path, "damaged ZIP64 field for '" + entry.name + "'");
                        }
                        value = le64(field + used);
                        used += 8;
                    }
                };
                take(entry.uncompressed);
                take(entry.compressed);
                take(entry.local_offset);
            }
            e += 4 + length;
        }
        entries.push_back(std::move(entry));
        pos += 46 + name_length + extra_length + comment_length;
    }
    return entries;
}

// The bytes of one entry, stored or inflated, checked against its CRC-32.
class EntrySource : public detail::ByteSource {
public:
    EntrySource(const detail::File& file, const Entry& entry, std::uint64_t data_offset, std::string context)
        : file_(file), entry_(entry), context_(std::move(context)), input_left_(entry.compressed)
    {
        file_.seek(data_offset);
        if (entry.method == 8) {
            std::memset(&zstream_, 0, sizeof zstream_);
            // Negative window bits: raw deflate data without a zlib header.
            if (inflateInit2(&zstream_, -15) != Z_OK) {
                throw_input_error(file_.path(), context_ + "cannot initialise zlib");
            }
            inflating_ = true;
            input_.resize(1 << 20);
        } else if (entry.method == 0) {
            if (entry.compressed != entry.uncompressed) {
                throw_input_error(file_.path(), context_ + "stored entry sizes disagree (" +
                                                    std::to_string(entry.compressed) + " vs " +
                                                    std::to_string(entry.uncompressed) + ")");
            }
        }
    }
    ~EntrySource() override
    {
        if (inflating_) {
            inflateEnd(&zstream_);
        }
    }
    EntrySource(const EntrySource&) = delete;
    EntrySource& operator=(const EntrySource&) = delete;

    std::uint64_t remaining() const override { return entry_.uncompressed - produced_; }

    std::size_t read(void* buffer, std::size_t size) override
    {
        size = static_cast<std::size_t>(std::min<std::uint64_t>(size, remaining()));
        const std::size_t got = inflating_ ? inflate_some(buffer, size) : read_stored(buffer, size);
        crc_ = crc32_z(crc_, static_cast<const Bytef*>(buffer), got);
        produced_ += got;
        return got;
    }

    // After the array is read: a full read must match the entry's CRC.
    void verify() const
    {
        if (produced_ == entry_.uncompressed && crc_ != entry_.crc) {
            throw_input_error(file_.path(), context_ + "CRC-32 mismatch: the archive is corrupt");
        }
    }

private:
    std::size_t read_stored(void* buffer, std::size_t size)
    {
        const std::size_t got = size ? std::fread(buffer, 1, size, file_.get()) : 0;
        if (got < size && std::ferror(file_.get())) {
            throw_input_error(file_.path(), context_ + "read error");
        }
        return got;
    }

    std::size_t inflate_some(void* buffer, std::size_t size)
    {
        zstream_.next_out = static_cast<Bytef*>(buffer);
        std::size_t done = 0;
        while (done < size && !finished_) {
            if (zstream_.avail_in == 0 && input_left_ > 0) {
                const auto want =
                    static_cast<std::size_t>(std::min<std::uint64_t>(input_.size(), input_left_));
                const std::size_t got = std::fread(input_.data(), 1, want, file_.get());
                if (got == 0) {
                    throw_input_error(file_.path(), context_ + "compressed data is truncated");
                }
                input_left_ -= got;
                zstream_.next_in = input_.data();
                zstream_.avail_in = static_cast<uInt>(got);
            }
            const std::size_t want = std::min<std::size_t>(size - done, std::numeric_limits<uInt>::max());
            zstream_.avail_out = static_cast<uInt>(want);
            const int status = inflate(&zstream_, Z_NO_FLUSH);
            done += want - zstream_.avail_out;
            if (status == Z_STREAM_END) {
                finished_ = true;
            } else if (status == Z_DATA_ERROR || status == Z_NEED_DICT || status == Z_MEM_ERROR) {
                throw_input_error(file_.path(), context_ + "corrupt compressed data (zlib: " +
                                                    (zstream_.msg ? zstream_.msg : "inflate failed") + ")");
            } else if (status == Z_BUF_ERROR && zstream_.avail_in == 0 && input_left_ == 0) {
                throw_input_error(file_.path(), context_ + "compressed data is truncated");
            }
        }
        return done;
    }

    const detail::File& file_;
    const Entry& entry_;
    std::string context_;
    std::uint64_t input_left_;
    std::uint64_t produced_ = 0;
    uLong crc_ = crc32_z(0L, Z_NULL, 0);
    bool inflating_ = false;
    bool finished_ = false;
    z_stream zstream_{};
    std::vector<Bytef> input_;
};

std::string key_of(const std::string& name)
{
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0) {
        return name.substr(0, name.size() - 4);
    }
    return name;
}

std::string key_list(const std::vector<const Entry*>& arrays)
{
    std::string text;
    for (const Entry* entry : arrays) {
        text += (text.empty() ? "'" : ", '") + key_of(entry->name) + "'";
    }
    return text;
}

} // namespace

Volume read_npz(const std::string& path, const ReadOptions& options)
{
    const detail::File file(path);
    if (file.size() == 0) {
        throw_input_error(path, "file is empty");
    }
    const std::vector<Entry> entries = read_central_directory(file);
    std::vector<const Entry*> arrays;
    for (const Entry& entry : entries) {
        if (entry.name.size() > 4 && entry.name.compare(entry.name.size() - 4, 4, ".npy") == 0) {
            arrays.push_back(&entry);
        }
    }
    if (arrays.empty()) {
        throw_input_error(path, "the .npz archive holds no .npy arrays");
    }
    const Entry* chosen = nullptr;
    if (options.npz_key.empty()) {
        if (arrays.size() > 1) {
            throw_input_error(path, "the .npz archive holds " + std::to_string(arrays.size()) + " arrays (" +
                                        key_list(arrays) + "); pass --key to choose one");
        }
        chosen = arrays.front();
    } else {
        for (const Entry* entry : arrays) {
            if (key_of(entry->name) == options.npz_key || entry->name == options.npz_key) {
                chosen = entry;
                break;
            }
        }
        if (!chosen) {
            throw_input_error(path, "no array '" + options.npz_key +
                                        "' in the .npz archive; available: " + key_list(arrays));
        }
    }
    const std::string context = "array '" + key_of(chosen->name) + "': ";
    if (chosen->flags & 0x1) {
        throw_input_error(path, context + "entry is encrypted");
    }
    if (chosen->method != 0 && chosen->method != 8) {
        throw_input_error(path, context + "unsupported zip compression method " +
                                    std::to_string(chosen->method) +
                                    " (only stored and deflate are supported)");
    }
    unsigned char local[30];
    file.read_at(chosen->local_offset, local, sizeof local, "the zip entry header");
    if (le32(local) != kLocalHeader) {
        corrupt(path, "damaged local header for '" + chosen->name + "'");
    }
    const std::uint64_t data_offset = chosen->local_offset + 30 + le16(local + 26) + le16(local + 28);
    if (data_offset > file.size() || chosen->compressed > file.size() - data_offset) {
        throw_input_error(path, context + "archive is truncated: the entry needs " +
                                    std::to_string(chosen->compressed) + " bytes at offset " +
                                    std::to_string(data_offset) + " but the file has " +
                                    std::to_string(file.size()) + " bytes");
    }
    if (chosen->method == 8) {
        // Refuse an entry whose declared size its compressed bytes cannot
        // hold before the array is allocated (a zip bomb header).
        detail::check_compressed_size(path, chosen->compressed, chosen->uncompressed,
                                      (context + "deflated entry").c_str());
    }
    EntrySource stream(file, *chosen, data_offset, context);
    Volume volume = detail::read_npy_stream(stream, path, options, context);
    stream.verify();
    return volume;
}

} // namespace masklens::io
