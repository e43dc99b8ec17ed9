Feature: A listener on the air learns neither what the wearer did nor who she is
  The person the wearer fears can record every byte between the button and the phone
  (SPEC §3 "Security"). Event contents are encrypted, and the button advertises a private
  address that changes every 15 minutes, which only the bonded phone resolves.

  Background:
    Given a button paired with a phone
    And the phone has 2 emergency contacts

  Scenario: A listener cannot tell what the wearer did
    When an attacker listens on the air
    And the wearer presses the button
    And the wearer double-presses the button
    And the wearer holds the button for 3 s
    And 1 minutes pass
    And the wearer triple-presses the button
    And the BLE link is lost for 90 s
    And 5 minutes pass
    Then every contact receives an SMS
    And the attacker cannot tell what the wearer did

  Scenario: A listener cannot follow the button by its address
    When an attacker listens on the air
    And Bluetooth is turned off on the phone
    And 1 hours pass
    Then the button has advertised at least 4 different addresses
