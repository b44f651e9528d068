"""The anti-phishing check (M18): is this SMS, link or phone number really Atrium Bank's?

- The bank's registered channels (web and e-mail domains, phone numbers, SMS short codes / sender ids)
  live in `phishing_channels`; staff add and retire them (never delete), each change audited.
- The check (`service.check`, pure rules in `domain`, `extract`, `lookalike`) judges every link, address,
  number and verify code in a text: genuine, suspicious (with reasons) or unknown. It never calls an
  unknown domain phishing merely for being unknown.
- A verify code is genuine only if `notify` sent a message carrying it; the check then says when and to
  whom (masked) and whether the pasted text is the text sent — never the body itself.
"""
