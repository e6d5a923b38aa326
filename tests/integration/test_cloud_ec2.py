#!/usr/bin/env python3
"""Probe "cloud", AWS EC2 posture (probes/cloud/aws_ec2.c, rules/rules/cloud_network.json)
against moto (moto.server.ThreadedMotoServer on a random 127.13.x.y, port 0), reusing the
scan/report helpers of test_cloud_moto.py.

Against moto: a bad account (security groups opening 22 over IPv4 and IPv6 and 5432 through
a port range to the Internet, a network ACL allowing 3389 after a deny of 22 that comes first,
the default ACL allowing everything, a public EBS snapshot, encryption by default off) fails
on the right rules and items; the same account fixed passes; a role whose policy moto
evaluates allows only some EC2 calls (the others denied by moto's own IAM evaluation) makes
the rules the denied calls feed errors and their items incomplete, never pass.

Not representable in moto, so a small fake EC2 endpoint (said here): throttling beyond the
retries (EC2 answers RequestLimitExceeded, HTTP 503), an UnauthorizedOperation answer (EC2's
denial code, HTTP 403) on a call moto would allow, a truncated XML answer, a value that is
neither true nor false, and NextToken pages (moto ignores MaxResults for these calls). The
fake's XML bodies are parsed with botocore's own EC2 parser first, so they are what EC2 sends.
IAM and STS stay on moto (the account's "endpoints" send only ec2 to the fake).
"""
import http.server
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_cloud_moto import TENKEN, block_public_access, findings, items, obs, scan  # noqa: E402
from tkharness import check, finish  # noqa: E402

EC2_NS = "http://ec2.amazonaws.com/doc/2016-11-15/"


def ec2_error(code, message):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>%s</Code><Message>%s</Message>'
            '</Error></Errors><RequestID>5e3a8c9e-0000-4000-8000-000000000000</RequestID></Response>' % (code, message))


def ec2_ok(action, inner):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<%sResponse xmlns="%s"><requestId>r-1</requestId>%s</%sResponse>'
            % (action, EC2_NS, inner, action))


SG_OPEN_3389 = ('<item><ownerId>123456789012</ownerId><groupId>sg-0page2</groupId><groupName>rdp</groupName>'
                '<groupDescription>d</groupDescription><vpcId>vpc-1</vpcId><ipPermissions><item>'
                '<ipProtocol>tcp</ipProtocol><fromPort>3389</fromPort><toPort>3389</toPort><groups/>'
                '<ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges><ipv6Ranges/><prefixListIds/>'
                '</item></ipPermissions><ipPermissionsEgress/></item>')
SG_CLOSED = ('<item><ownerId>123456789012</ownerId><groupId>sg-0page1</groupId><groupName>web</groupName>'
             '<groupDescription>d</groupDescription><vpcId>vpc-1</vpcId><ipPermissions><item>'
             '<ipProtocol>tcp</ipProtocol><fromPort>443</fromPort><toPort>443</toPort><groups/>'
             '<ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges><ipv6Ranges/><prefixListIds/>'
             '</item></ipPermissions><ipPermissionsEgress/></item>')
TOKEN = "page+2/of=2"


def fake_bodies(mode, action, params):
    """(status, body) the fake EC2 endpoint answers."""
    if mode == "broken":
        if action == "DescribeSecurityGroups":
            return 503, ec2_error("RequestLimitExceeded", "Request limit exceeded.")
        if action == "DescribeNetworkAcls":
            return 200, ec2_ok(action, "<networkAclSet><item><networkAclId>acl-1</networkAclId><entrySet><item>")
        if action == "DescribeSnapshots":
            return 403, ec2_error("UnauthorizedOperation", "You are not authorized to perform this operation.")
        if action == "GetEbsEncryptionByDefault":
            return 200, ec2_ok(action, "<ebsEncryptionByDefault>yes</ebsEncryptionByDefault>")
    if mode == "paged":
        if action == "DescribeSecurityGroups":
            if params.get("NextToken") == [TOKEN]:
                return 200, ec2_ok(action, "<securityGroupInfo>%s</securityGroupInfo>" % SG_OPEN_3389)
            return 200, ec2_ok(action, "<securityGroupInfo>%s</securityGroupInfo><nextToken>%s</nextToken>"
                               % (SG_CLOSED, TOKEN))
        if action == "DescribeNetworkAcls":
            return 200, ec2_ok(action, "<networkAclSet/>")
        if action == "DescribeSnapshots":
            return 200, ec2_ok(action, "<snapshotSet/>")
        if action == "GetEbsEncryptionByDefault":
            return 200, ec2_ok(action, "<ebsEncryptionByDefault>true</ebsEncryptionByDefault>")
    return 400, ec2_error("InvalidAction", "unexpected")


def botocore_checks():
    """The fake's bodies through botocore's EC2 parser: what botocore reads is what tenken must read."""
    import botocore.session
    from botocore.parsers import create_parser
    model = botocore.session.get_session().get_service_model("ec2")
    parser = create_parser("ec2")

    def parse(action, status, body):
        return parser.parse({"status_code": status, "headers": {}, "body": body.encode()},
                            model.operation_model(action).output_shape)
    r = parse("DescribeSecurityGroups", 503, fake_bodies("broken", "DescribeSecurityGroups", {})[1])
    check(r["Error"]["Code"] == "RequestLimitExceeded", "botocore reads the fake's throttling body", r)
    r = parse("DescribeSnapshots", 403, fake_bodies("broken", "DescribeSnapshots", {})[1])
    check(r["Error"]["Code"] == "UnauthorizedOperation", "botocore reads the fake's denial body", r)
    r = parse("DescribeSecurityGroups", 200, fake_bodies("paged", "DescribeSecurityGroups", {})[1])
    check(r.get("NextToken") == TOKEN and r["SecurityGroups"][0]["GroupId"] == "sg-0page1",
          "botocore reads the fake's first page and its NextToken", r)
    r = parse("DescribeSecurityGroups", 200, fake_bodies("paged", "DescribeSecurityGroups", {"NextToken": [TOKEN]})[1])
    p = r["SecurityGroups"][0]["IpPermissions"][0]
    check(p["FromPort"] == 3389 and p["IpRanges"][0]["CidrIp"] == "0.0.0.0/0",
          "botocore reads the fake's second page (3389 open)", r)
    for a in ("DescribeNetworkAcls", "DescribeSnapshots", "GetEbsEncryptionByDefault"):
        parse(a, 200, fake_bodies("paged", a, {})[1])
    try:
        parse("DescribeNetworkAcls", 200, fake_bodies("broken", "DescribeNetworkAcls", {})[1])
        check(False, "botocore refuses the fake's truncated XML")
    except Exception:
        check(True, "botocore refuses the fake's truncated XML")


class FakeEC2(http.server.BaseHTTPRequestHandler):
    mode = "broken"
    seen = []

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        params = urllib.parse.parse_qs(self.rfile.read(n).decode(), keep_blank_values=True)
        action = params.get("Action", [""])[0]
        FakeEC2.seen.append((action, params, self.headers.get("Authorization", "")))
        st, body = fake_bodies(FakeEC2.mode, action, params)
        b = body.encode()
        self.send_response(st)
        self.send_header("Content-Type", "text/xml;charset=UTF-8")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def log_message(self, *a):
        pass


def card_items(tmp, name, env):
    """The items of scan `name` judged again on the card checklist (same config and tailoring)."""
    d = os.path.join(tmp, name)
    argv = [TENKEN, "scan", "-c", os.path.join(d, "partner.json"), "-o", os.path.join(d, "out-card"),
            "--lang", "en", "--checklist", "cashless-card-2019"]
    if os.path.exists(os.path.join(d, "t.json")):
        argv += ["--tailoring", os.path.join(d, "t.json")]
    subprocess.run(argv, capture_output=True, text=True, env=env, timeout=180)
    with open(os.path.join(d, "out-card", "report.json")) as f:
        rep = json.load(f)
    return rep.get("checklist"), items(rep)


def reset_auth(ep, value):
    urllib.request.urlopen(urllib.request.Request(ep + "/moto-api/reset-auth", data=value, method="POST",
                                                  headers={"Content-Type": "text/plain"})).read()


def has(lst, prefix):
    return any(s.startswith(prefix) for s in lst or [])


def status(rep, rule):
    return findings(rep).get(rule, {}).get("status")


RULES = ("CLOUD-SG-ADMIN-PORT-OPEN", "CLOUD-SG-DB-PORT-OPEN", "CLOUD-NACL-PORT-OPEN", "CLOUD-EBS-SNAPSHOT-PUBLIC",
         "CLOUD-EBS-DEFAULT-ENCRYPTION-OFF")


def main():
    try:
        import boto3
        from moto.server import ThreadedMotoServer
    except ImportError as e:
        print("FAIL moto (moto[server]) and boto3 are required by this test: %s" % e)
        return 1
    botocore_checks()
    addr = "127.13.%d.%d" % (random.randint(1, 254), random.randint(1, 254))
    srv = ThreadedMotoServer(ip_address=addr, port=0, verbose=False)
    srv.start()
    host, port = srv.get_host_and_port()
    ep = "http://%s:%d" % (host, port)
    fake = http.server.ThreadingHTTPServer((addr, 0), FakeEC2)
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    fake_ep = "http://%s:%d" % (addr, fake.server_address[1])
    tmp = tempfile.mkdtemp(prefix="tenken-ec2-")
    try:
        kw = dict(endpoint_url=ep, region_name="us-east-1", aws_access_key_id="AKIASETUP00000000001",
                  aws_secret_access_key="setup")
        ec2 = boto3.client("ec2", **kw)
        iam = boto3.client("iam", **kw)
        vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]

        # --- the bad account ---
        ssh = ec2.create_security_group(GroupName="ssh-world", Description="d", VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=ssh, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
             "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}])
        pg = ec2.create_security_group(GroupName="pg-range", Description="d", VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=pg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 5400, "ToPort": 5500, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        # not counted: SSH from a private range, HTTPS from the Internet
        ok = ec2.create_security_group(GroupName="fine", Description="d", VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=ok, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]},
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
             "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}])
        wide = []  # created last: their lines come after the ones checked by name
        for i in range(3):
            wide.append(ec2.create_security_group(GroupName="all-%d" % i, Description="d", VpcId=vpc)["GroupId"])
            ec2.authorize_security_group_ingress(GroupId=wide[-1], IpPermissions=[
                {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}])
        dacl = ec2.describe_network_acls(Filters=[{"Name": "default", "Values": ["true"]},
                                                  {"Name": "vpc-id", "Values": [vpc]}])["NetworkAcls"][0]["NetworkAclId"]
        acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
        # rule 80 denies 22 before rule 90 allows 20-3400: 22 stays closed, 3389 is open
        ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=90, Protocol="6", RuleAction="allow",
                                     Egress=False, CidrBlock="0.0.0.0/0", PortRange={"From": 20, "To": 3400})
        ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=80, Protocol="6", RuleAction="deny",
                                     Egress=False, CidrBlock="0.0.0.0/0", PortRange={"From": 22, "To": 22})
        ec2.create_network_acl_entry(NetworkAclId=dacl, RuleNumber=101, Protocol="-1", RuleAction="allow",
                                     Egress=False, Ipv6CidrBlock="::/0")
        vol = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1)["VolumeId"]
        pub = ec2.create_snapshot(VolumeId=vol, Description="public")["SnapshotId"]
        priv = ec2.create_snapshot(VolumeId=vol, Description="private")["SnapshotId"]
        ec2.modify_snapshot_attribute(SnapshotId=pub, Attribute="createVolumePermission", OperationType="add",
                                      GroupNames=["all"])
        ec2.modify_snapshot_attribute(SnapshotId=priv, Attribute="createVolumePermission", OperationType="add",
                                      UserIds=["111122223333"])
        ec2.disable_ebs_encryption_by_default()

        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"AWS_ACCESS_KEY_ID": "AKIASETUP00000000001", "AWS_SECRET_ACCESS_KEY": "setup"})
        acct = {"provider": "aws", "name": "moto", "endpoint": ep, "region": "us-east-1"}
        fresh = {"rules": {"CLOUD-CREDENTIAL-REPORT-STALE": {"params": {"max_age_hours": 10000000}}}}

        r, rep = scan(tmp, "bad", acct, env, fresh)
        n = obs(rep, "cloud_network")
        f, it = findings(rep), items(rep)
        check(n and "unobserved" not in n and n.get("region") == "us-east-1",
              "bad: one cloud_network observation, everything observed", (n, r.stderr[-600:]))
        adm, db = n.get("sg_world_admin", []), n.get("sg_world_db", [])
        check(status(rep, "CLOUD-SG-ADMIN-PORT-OPEN") == "fail" and "%s 22/tcp 0.0.0.0/0" % ssh in adm
              and "%s 22/tcp ::/0" % ssh in adm and "%s 3389/tcp ::/0 (all traffic)" % wide[0] in adm,
              "bad: SSH open to 0.0.0.0/0 and ::/0 -> CLOUD-SG-ADMIN-PORT-OPEN fails, both rules named", adm)
        check(not has(adm, ok) and not has(db, ok), "bad: SSH from 10.0.0.0/8 and HTTPS from anywhere not counted",
              (adm, db))
        check(status(rep, "CLOUD-SG-DB-PORT-OPEN") == "fail"
              and "%s 5432/tcp 0.0.0.0/0 (port range)" % pg in db and not has(db, ssh),
              "bad: 5400-5500 from 0.0.0.0/0 covers 5432 -> CLOUD-SG-DB-PORT-OPEN fails", db)
        # 12 admin and 13 DB (memcached over UDP too) per family of each all-traffic group
        check(n.get("sg_world_admin_count") == 2 + 3 * 24 and n.get("sg_world_db_count") == 1 + 3 * 26
              and len(adm) == 50 and len(db) == 50 and n.get("sg_world_admin_truncated") is True
              and n.get("sg_world_db_truncated") is True,
              "bad: 74 admin and 79 DB openings counted, the lists bounded to 50 and marked truncated",
              {k: n.get(k) for k in ("sg_world_admin_count", "sg_world_db_count", "sg_world_admin_truncated")})
        na = n.get("nacl_world_open", [])
        r90 = next((x for x in na if x.startswith("%s rule 90 0.0.0.0/0:" % acl)), "")
        r100 = next((x for x in na if x.startswith("%s rule 100 0.0.0.0/0:" % dacl)), "")
        r101 = next((x for x in na if x.startswith("%s rule 101 ::/0:" % dacl)), "")
        check(status(rep, "CLOUD-NACL-PORT-OPEN") == "warn" and " 3389/tcp" in r90 and " 21/tcp" in r90
              and " 22/tcp" not in r90 and " 5432/tcp" not in r90,
              "bad: NACL rule 90 (20-3400) allows 3389, not 22 (denied first by rule 80) -> warns", na)
        check(" 22/tcp" in r100 and " 5432/tcp" in r100 and " 11211/udp" in r101 and " 3389/tcp" in r101
              and n.get("nacl_world_open_count") == 3 and n.get("nacl_world_open_ports") == 61,
              "bad: the default ACL's IPv4 and IPv6 allow-all entries named; 3 entries, 61 port openings "
              "(25 ports x 2 families + 11)", (na, n.get("nacl_world_open_count"), n.get("nacl_world_open_ports")))
        check(status(rep, "CLOUD-EBS-SNAPSHOT-PUBLIC") == "fail" and n.get("public_snapshots") == [pub]
              and n.get("snapshots_owned") == 2,
              "bad: the public snapshot named, the one shared with one account not -> CLOUD-EBS-SNAPSHOT-PUBLIC fails",
              {k: n.get(k) for k in ("public_snapshots", "snapshots_owned", "snapshots_checked", "snapshots_error",
                                     "snapshots_other_owner_skipped")})
        check(status(rep, "CLOUD-EBS-DEFAULT-ENCRYPTION-OFF") == "warn" and n.get("ebs_encryption_by_default") is False,
              "bad: encryption by default off -> CLOUD-EBS-DEFAULT-ENCRYPTION-OFF warns", n.get("ebs_encryption_by_default"))
        check(it[26]["status"] == "fail" and it[27]["status"] == "fail" and it[30]["status"] == "fail",
              "bad: FISC items 26, 27, 30 fail", {k: it[k]["status"] for k in (26, 27, 30)})
        cl, card = card_items(tmp, "bad", env)
        check(card.get(25, {}).get("status") == "fail" and card.get(26, {}).get("status") == "fail"
              and card.get(29, {}).get("status") == "fail",
              "bad: on the card checklist items 25, 26, 29 fail", (cl, {k: card.get(k) for k in (25, 26, 29)}))

        # --- the same account fixed ---
        ec2.revoke_security_group_ingress(GroupId=ssh, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
             "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}])
        ec2.revoke_security_group_ingress(GroupId=pg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 5400, "ToPort": 5500, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        for g in wide:
            ec2.delete_security_group(GroupId=g)
        ec2.delete_network_acl_entry(NetworkAclId=acl, RuleNumber=90, Egress=False)
        ec2.replace_network_acl_entry(NetworkAclId=dacl, RuleNumber=100, Protocol="6", RuleAction="allow", Egress=False,
                                      CidrBlock="0.0.0.0/0", PortRange={"From": 443, "To": 443})
        ec2.delete_network_acl_entry(NetworkAclId=dacl, RuleNumber=101, Egress=False)
        ec2.modify_snapshot_attribute(SnapshotId=pub, Attribute="createVolumePermission", OperationType="remove",
                                      GroupNames=["all"])
        ec2.enable_ebs_encryption_by_default()
        block_public_access(ep)  # the S3 rules judge items 26 and 30 too
        r, rep = scan(tmp, "good", acct, env, fresh)
        n = obs(rep, "cloud_network")
        check(all(status(rep, x) == "pass" for x in RULES), "good: the five EC2 rules pass",
              ({x: status(rep, x) for x in RULES}, n))
        it = items(rep)
        check(it[26]["status"] == "pass" and it[27]["status"] == "pass" and it[30]["status"] == "pass",
              "good: items 26, 27, 30 pass", {k: it[k]["status"] for k in (26, 27, 30)})

        # --- denied by moto's IAM evaluation of the assumed role's policy ---
        iam.create_user(UserName="bank-auditor")
        key = iam.create_access_key(UserName="bank-auditor")["AccessKey"]
        iam.put_user_policy(UserName="bank-auditor", PolicyName="assume", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                                         "Action": "sts:AssumeRole"}]}
        base = ["iam:GetAccountSummary", "iam:GenerateCredentialReport", "iam:GetCredentialReport",
                "iam:GetAccountPasswordPolicy", "events:ListRules", "cloudtrail:DescribeTrails"]
        # (no sts:GetCallerIdentity: AWS, and moto, always allow it)
        iam.create_role(RoleName="AuditSomeEc2", AssumeRolePolicyDocument=json.dumps(trust))
        iam.put_role_policy(RoleName="AuditSomeEc2", PolicyName="audit", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*", "Action": base + [
                "ec2:DescribeSecurityGroups", "ec2:DescribeSnapshots"]}]}))
        reset_auth(ep, b"0")  # from here on moto authenticates and authorises every request
        try:
            denv = dict(env, AWS_ACCESS_KEY_ID=key["AccessKeyId"], AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"])
            da = dict(acct, role_arn="arn:aws:iam::123456789012:role/AuditSomeEc2")
            r, rep = scan(tmp, "denied", da, denv, fresh)
        finally:
            reset_auth(ep, b"inf")
        n = obs(rep, "cloud_network")
        f, it = findings(rep), items(rep)
        check(status(rep, "CLOUD-SG-ADMIN-PORT-OPEN") == "pass" and status(rep, "CLOUD-SG-DB-PORT-OPEN") == "pass",
              "denied: the allowed DescribeSecurityGroups is still judged (pass)", (n, r.stderr[-600:]))
        for rule, call in (("CLOUD-NACL-PORT-OPEN", "DescribeNetworkAcls"),
                           ("CLOUD-EBS-SNAPSHOT-PUBLIC", "DescribeSnapshotAttribute"),
                           ("CLOUD-EBS-DEFAULT-ENCRYPTION-OFF", "GetEbsEncryptionByDefault")):
            x = f.get(rule, {})
            msg = x.get("evidence", {}).get("message", "")
            check(x.get("status") == "error" and call in msg and ("403" in msg or "Unauthorized" in msg),
                  "denied: moto refuses ec2:%s -> %s an error naming the call" % (call, rule), x)
        sm = f.get("CLOUD-EBS-SNAPSHOT-PUBLIC", {}).get("evidence", {}).get("message", "")
        check(pub in sm or priv in sm, "denied: the first permission read is of the account's own snapshot "
              "(sts GetCallerIdentity, allowed without a policy, names the owner)", sm)
        check(it[26]["status"] == "incomplete" and it[30]["status"] == "incomplete" and it[27]["status"] == "pass"
              and r.returncode == 3,
              "denied: items 26 and 30 incomplete (27, fed only by the allowed call, passes), exit 3",
              ({k: it[k]["status"] for k in (26, 27, 30)}, r.returncode))

        # --- the fake EC2 endpoint: throttled, denied, truncated, malformed value ---
        fa = dict(acct, endpoints={"ec2": fake_ep}, max_retries=1)
        FakeEC2.mode, FakeEC2.seen = "broken", []
        r, rep = scan(tmp, "broken", fa, env, fresh)
        f, it, n = findings(rep), items(rep), obs(rep, "cloud_network")
        for rule, want in (("CLOUD-SG-ADMIN-PORT-OPEN", "RequestLimitExceeded"),
                           ("CLOUD-SG-DB-PORT-OPEN", "RequestLimitExceeded"),
                           ("CLOUD-NACL-PORT-OPEN", "malformed"),
                           ("CLOUD-EBS-SNAPSHOT-PUBLIC", "UnauthorizedOperation"),
                           ("CLOUD-EBS-DEFAULT-ENCRYPTION-OFF", "ebsEncryptionByDefault")):
            x = f.get(rule, {})
            check(x.get("status") == "error" and want in x.get("evidence", {}).get("message", ""),
                  "fake: %s -> %s an error, never pass" % (want, rule), x)
        check(sum(1 for a, _, _ in FakeEC2.seen if a == "DescribeSecurityGroups") == 2,
              "fake: the throttled call was retried max_retries (1) times", [a for a, _, _ in FakeEC2.seen])
        check(all(a.startswith("AWS4-HMAC-SHA256 Credential=AKIASETUP00000000001/") and "/ec2/aws4_request" in a
                  for _, _, a in FakeEC2.seen), "fake: every EC2 request signed for service ec2")
        check(all(it[k]["status"] == "incomplete" for k in (26, 27, 30)) and r.returncode == 3
              and rep["complete"] is False, "fake: items 26, 27, 30 incomplete, scan incomplete (exit 3)",
              ({k: it[k]["status"] for k in (26, 27, 30)}, r.returncode))

        FakeEC2.mode, FakeEC2.seen = "paged", []
        r, rep = scan(tmp, "paged", fa, env, fresh)
        n = obs(rep, "cloud_network")
        sent = [p.get("NextToken") for a, p, _ in FakeEC2.seen if a == "DescribeSecurityGroups"]
        check(sent == [None, [TOKEN]] and n.get("security_groups") == 2
              and n.get("sg_world_admin") == ["sg-0page2 3389/tcp 0.0.0.0/0"]
              and status(rep, "CLOUD-SG-ADMIN-PORT-OPEN") == "fail",
              "fake: NextToken followed (sent back exactly); RDP open on page 2 -> CLOUD-SG-ADMIN-PORT-OPEN fails",
              (sent, n))
        check(status(rep, "CLOUD-EBS-DEFAULT-ENCRYPTION-OFF") == "pass" and status(rep, "CLOUD-NACL-PORT-OPEN") == "pass"
              and status(rep, "CLOUD-EBS-SNAPSHOT-PUBLIC") == "pass", "fake: empty lists and encryption on pass")
    finally:
        fake.shutdown()
        srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    sys.exit(main())
