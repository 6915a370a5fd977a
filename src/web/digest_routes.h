// The digest part of the web app (docs/digests.md): the subscribe form (GET/POST /digest) and
// its JSON twin (POST /api/digest/subscribe), and the pages behind the links in mails:
// /digest/confirm and /digest/unsubscribe. A GET of either shows a button and changes nothing
// (mail scanners open links); the POST acts, and POST /digest/unsubscribe?token=... is the
// RFC 8058 one-click unsubscribe that mail clients send. The signed token is the authority, so
// these forms work without an account.
#pragma once

#include "mail/digest.h"
#include "store/subscriptions.h"

namespace paperboy::web {

class Pages;
class PageRoutes;

class DigestRoutes {
 public:
  // `pages` supplies the site's layout and must outlive the routes.
  DigestRoutes(store::SubscriptionStore& subscriptions, mail::MailSettings settings,
               const Pages& pages);
  void install(PageRoutes& http);

 private:
  store::SubscriptionStore& subscriptions_;
  mail::MailSettings settings_;
  const Pages& pages_;
};

}  // namespace paperboy::web
