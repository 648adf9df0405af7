// The system calls the model's userspace makes on a kernel: memfds
// (memfd.hpp) and /dev/liveupdate (luo.hpp). Thin forwards, so that tests,
// scenarios and the Python bindings drive one Kernel object.
#include "model/kho/kernel.hpp"
#include "model/kho/luo.hpp"
#include "model/kho/memfd.hpp"

namespace khospec::model {

int Kernel::memfd_create(bool allow_sealing) { return memfds_->create(allow_sealing); }
int Kernel::memfd_write(int fd, std::uint64_t offset, std::span<const std::uint8_t> bytes) {
  return memfds_->write(fd, offset, bytes);
}
int Kernel::memfd_truncate(int fd, std::uint64_t size) { return memfds_->truncate(fd, size); }
int Kernel::memfd_seek(int fd, std::uint64_t pos) { return memfds_->seek(fd, pos); }
int Kernel::memfd_add_seals(int fd, std::uint32_t seals) { return memfds_->add_seals(fd, seals); }
std::optional<std::vector<std::uint8_t>> Kernel::memfd_read(int fd, std::uint64_t offset, std::uint64_t len) const {
  return memfds_->read(fd, offset, len);
}

// No LUO in the release: there is no /dev/liveupdate to open.
int Kernel::luo_create_session(const std::string& name) {
  LuoClient* l = luo();
  return l ? l->create_session(*this, name) : K_ENOENT;
}
int Kernel::luo_preserve_fd(int session_fd, int fd, std::uint64_t token) {
  LuoClient* l = luo();
  return l ? l->preserve_fd(*this, session_fd, fd, token) : K_EBADF;
}
int Kernel::luo_retrieve_session(const std::string& name) {
  LuoClient* l = luo();
  return l ? l->retrieve_session(*this, name) : K_ENOENT;
}
int Kernel::luo_retrieve_fd(int session_fd, std::uint64_t token) {
  LuoClient* l = luo();
  return l ? l->retrieve_fd(*this, session_fd, token) : K_EBADF;
}
int Kernel::luo_finish(int session_fd) {
  LuoClient* l = luo();
  return l ? l->finish(*this, session_fd) : K_EBADF;
}
int Kernel::luo_close(int session_fd) {
  LuoClient* l = luo();
  return l ? l->close_session(*this, session_fd) : K_EBADF;
}

}  // namespace khospec::model
