#include "store/object_store.h"

namespace dbbackup::store {

Result<std::vector<ObjectInfo>> ListAll(ObjectStore& store, const std::string& prefix) {
  std::vector<ObjectInfo> all;
  std::string token;
  do {
    DBB_ASSIGN_OR_RETURN(ListPage page, store.List(prefix, token));
    for (auto& o : page.objects) all.push_back(std::move(o));
    if (!page.next_page_token.empty() && page.next_page_token == token) {
      return Status::IOError("listing " + prefix + ": the store repeated a page token");
    }
    token = std::move(page.next_page_token);
  } while (!token.empty());
  return all;
}

}  // namespace dbbackup::store
